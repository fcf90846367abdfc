import { describe, expect, it } from 'vitest';
import { parseValue as literal } from 'graphql/index.js';
import { SafeIntScalar } from './safe-int.scalar.js';

const codeOf = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return (error as { extensions?: { code?: string } }).extensions?.code ?? (error as Error).constructor.name;
  }
  return 'accepted';
};

describe('SafeInt', () => {
  it('serializes counts beyond 2^31 as exact JSON numbers', () => {
    const beyondInt32 = 2 ** 31 + 5; // 2147483653
    expect(SafeIntScalar.serialize(beyondInt32)).toBe(2147483653);
    expect(JSON.stringify({ transactionCount: SafeIntScalar.serialize(4_500_000_001) })).toBe('{"transactionCount":4500000001}');
    expect(SafeIntScalar.serialize(Number.MAX_SAFE_INTEGER)).toBe(9007199254740991);
    expect(SafeIntScalar.serialize(-Number.MAX_SAFE_INTEGER)).toBe(-9007199254740991);
    expect(SafeIntScalar.serialize(0)).toBe(0);
    expect(SafeIntScalar.serialize(9007199254740991n)).toBe(9007199254740991);
  });

  it('refuses to serialize what a double cannot hold exactly, and non-integers', () => {
    for (const value of [2 ** 53, -(2 ** 53), 9007199254740992n, 1.5, Number.NaN, Infinity, '12', null, undefined]) {
      expect([value, codeOf(() => SafeIntScalar.serialize(value))]).toEqual([value, 'TypeError']);
    }
  });

  it('reads variables and literals within ±(2^53 - 1), and refuses others with BAD_USER_INPUT', () => {
    expect(SafeIntScalar.parseValue(3_000_000_000)).toBe(3_000_000_000);
    expect(SafeIntScalar.parseLiteral(literal('9007199254740991'), {})).toBe(9007199254740991);
    expect(SafeIntScalar.parseLiteral(literal('-2147483649'), {})).toBe(-2147483649);
    expect(codeOf(() => SafeIntScalar.parseValue(2 ** 53))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => SafeIntScalar.parseValue('5'))).toBe('BAD_USER_INPUT');
    // 2^53 + 1 would read as the double 2^53.
    expect(codeOf(() => SafeIntScalar.parseLiteral(literal('9007199254740993'), {}))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => SafeIntScalar.parseLiteral(literal('1.0'), {}))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => SafeIntScalar.parseLiteral(literal('"5"'), {}))).toBe('BAD_USER_INPUT');
  });
});
