import { describe, expect, it } from 'vitest';
import { jsonSerializer } from './json-serializer.js';

const SCHEMAS = {
  Point: {
    type: 'object',
    properties: { start: { type: 'string', format: 'date-time' }, count: { type: 'integer' }, previous: { anyOf: [{ $ref: '#/components/schemas/Point' }, { type: 'null' }] } },
  },
  Answer: {
    type: 'object',
    properties: { amount: { type: 'string' }, rate: { type: ['number', 'null'] }, exact: { type: 'boolean' }, points: { type: 'array', items: { $ref: '#/components/schemas/Point' } } },
  },
};
const write = jsonSerializer({ $ref: '#/components/schemas/Answer' }, SCHEMAS);

describe('jsonSerializer', () => {
  it("writes the schema's properties in its order, dates as UTC with milliseconds, nulls where allowed", () => {
    const answer = {
      points: [{ previous: { start: new Date('2026-03-08T00:00:00-05:00'), count: 2, previous: null }, count: 1, start: new Date(Date.UTC(2026, 2, 9, 4)) }],
      exact: true,
      rate: null,
      amount: '12',
    };
    expect(write(answer)).toBe(
      '{"amount":"12","rate":null,"exact":true,"points":[{"start":"2026-03-09T04:00:00.000Z","count":1,"previous":{"start":"2026-03-08T05:00:00.000Z","count":2,"previous":null}}]}',
    );
  });

  it('leaves out what the schema does not declare', () => {
    expect(write({ amount: '1', rate: 0.25, exact: false, points: [], watermark: 'w-1' })).toBe('{"amount":"1","rate":0.25,"exact":false,"points":[]}');
  });

  it('refuses a value its schema does not allow rather than write it wrong', () => {
    expect(() => write({ amount: 12n, rate: null, exact: true, points: [] })).toThrow('expected a string, got bigint');
    expect(() => write({ amount: '1', rate: null, exact: true, points: [{ start: new Date(0), count: 2 ** 53, previous: null }] })).toThrow('expected an integer within ±(2^53 - 1), got 9007199254740992');
    expect(() => write({ amount: '1', rate: Number.NaN, exact: true, points: [] })).toThrow('expected a finite number, got NaN');
  });
});
