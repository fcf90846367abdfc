import { describe, expect, it } from 'vitest';
import { SketchAccumulator } from './sketch-accumulator.js';
import { SketchFormatError, sketchForm } from './sketch-format.js';
import { encodeIds, estimateSketch, unionSketches } from './sketches.js';
import { referenceHash } from './testing/reference-sketch.js';

const sketchOf = (hashes: bigint[]) => {
  const accumulator = new SketchAccumulator();
  for (const h of hashes) accumulator.addHash(h);
  return accumulator.encode();
};
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('encoded forms', () => {
  it('is NULL for the empty set', () => {
    expect(sketchOf([])).toBeNull();
    expect(encodeIds([])).toBeNull();
    expect(unionSketches([null, null])).toBeNull();
    expect(estimateSketch(null)).toEqual({ count: 0, exact: true });
    expect(sketchForm(null)).toBeNull();
  });

  it('lists an explicit set once per hash, in signed order', () => {
    const bytes = sketchOf([1n << 40n, 5n, -3n, 5n, -(2n ** 63n)]);
    expect(bytes).toEqual(hex('01 8000000000000000 fffffffffffffffd 0000000000000005 0000010000000000'));
    expect(sketchForm(bytes)).toBe('explicit');
    expect(estimateSketch(bytes)).toEqual({ count: 4, exact: true });
  });

  it('encodes ids through their hashes', () => {
    const ids = ['cus_1', '顧客-1', 'cus_1'];
    const expected = [...new Set(ids.map(referenceHash))].sort((a, b) => (a < b ? -1 : 1));
    const bytes = encodeIds(ids)!;
    expect(bytes.length).toBe(17);
    expect([bytes.readBigInt64BE(1), bytes.readBigInt64BE(9)]).toEqual(expected);
  });

  it('keeps 256 hashes explicit and turns the 257th into sparse registers', () => {
    // Hash k·2^50 + 2^(k mod 50): register k, ρ = 50 − (k mod 50); plus 0 (register 0, ρ 51) and −1 (register 16383, ρ 1).
    const hashes = (n: number) => [0n, -1n, ...Array.from({ length: n - 2 }, (_, i) => (BigInt(i + 1) << 50n) | (1n << BigInt((i + 1) % 50)))];
    expect(sketchForm(sketchOf(hashes(256)))).toBe('explicit');
    const bytes = sketchOf(hashes(257))!;
    const entries = [51, ...Array.from({ length: 255 }, (_, i) => (i + 1) * 64 + 50 - ((i + 1) % 50)), 16383 * 64 + 1];
    expect(bytes).toEqual(Buffer.concat([hex('02'), ...entries.map((e) => hex(e.toString(16).padStart(6, '0')))]));
    expect(bytes.subarray(bytes.length - 3)).toEqual(hex('0fffc1'));
    expect(estimateSketch(bytes).exact).toBe(false);
  });

  it('is sparse up to 4,096 non-zero registers and dense from 4,097', () => {
    const spread = (registers: number) => Array.from({ length: registers }, (_, j) => BigInt(j) << 50n); // ρ 51 each
    expect(sketchForm(sketchOf(spread(4096)))).toBe('sparse');
    expect(sketchOf(spread(4096))!.length).toBe(1 + 3 * 4096);
    const dense = sketchOf(spread(4097))!;
    const expected = Buffer.alloc(16385);
    expected[0] = 3;
    expected.fill(51, 1, 1 + 4097);
    expect(dense).toEqual(expected);
  });
});

describe('decoding rejects what is not a canonical sketch', () => {
  const explicit = (...hashes: bigint[]) => {
    const out = Buffer.alloc(1 + 8 * hashes.length);
    out[0] = 1;
    hashes.forEach((h, i) => out.writeBigInt64BE(h, 1 + 8 * i));
    return out;
  };
  const sparse = (...entries: Array<[number, number]>) => Buffer.concat([hex('02'), ...entries.map(([j, rho]) => hex((j * 64 + rho).toString(16).padStart(6, '0')))]);
  const dense = (nonZero: number, value = 1) => {
    const out = Buffer.alloc(16385);
    out[0] = 3;
    out.fill(value, 1, 1 + nonZero);
    return out;
  };
  const cases: Array<[string, Buffer, RegExp]> = [
    ['empty bytes', Buffer.alloc(0), /empty set is stored as NULL/],
    ['an unknown leading byte', hex('04 00'), /leading byte 0x04/],
    ['a zero leading byte', hex('00'), /leading byte 0x00/],
    ['an explicit tag alone', hex('01'), /explicit sketch of 1 bytes/],
    ['a partial hash', hex('01 0000000000000001 00'), /explicit sketch of 10 bytes/],
    ['257 explicit hashes', explicit(...Array.from({ length: 257 }, (_, i) => BigInt(i))), /explicit sketch of 2057 bytes/],
    ['unsorted hashes', explicit(5n, 3n), /hash 1 is not above hash 0/],
    ['negative after positive', explicit(1n, -1n), /unsorted or duplicate/],
    ['unsorted low words', explicit(0x1_ffff_ffffn, 0x1_0000_0000n), /unsorted or duplicate/],
    ['duplicate hashes', explicit(-7n, 2n, 2n), /hash 2 is not above hash 1/],
    ['a sparse tag alone', hex('02'), /sparse sketch of 1 bytes/],
    ['a partial sparse entry', hex('02 000033 00'), /sparse sketch of 5 bytes/],
    ['unsorted registers', sparse([5, 1], [4, 1]), /register 4 after 5/],
    ['a repeated register', sparse([5, 1], [5, 2]), /register 5 after 5/],
    ['a zero ρ', sparse([5, 0]), /holds 0, outside 1..51/],
    ['a ρ above 51', sparse([5, 52]), /holds 52, outside 1..51/],
    ['a register past 16383', hex('02 100001'), /index 16384 out of range/],
    ['4,097 sparse entries', sparse(...Array.from({ length: 4097 }, (_, j): [number, number] => [j, 1])), /sparse sketch of 12292 bytes/],
    ['a short dense sketch', dense(5000).subarray(0, 16384), /dense sketch of 16384 bytes/],
    ['a dense ρ above 51', dense(5000, 52), /holds 52, above 51/],
    ['a dense sketch with 4,096 registers', dense(4096), /4096 non-zero registers/],
  ];
  it.each(cases)('rejects %s', (_, bytes, message) => {
    expect(() => sketchForm(bytes)).toThrow(SketchFormatError);
    expect(() => estimateSketch(bytes)).toThrow(message);
    expect(() => unionSketches([bytes])).toThrow(message);
  });

  it('leaves an accumulator unchanged when a sketch is rejected', () => {
    const accumulator = new SketchAccumulator().addHash(1n).addHash(2n);
    const before = accumulator.encode();
    expect(() => accumulator.addEncoded(explicit(3n, 4n, 4n))).toThrow(SketchFormatError);
    expect(() => accumulator.addEncoded(dense(5000, 60))).toThrow(SketchFormatError);
    expect(accumulator.encode()).toEqual(before);
  });

  it('accepts the forms it writes, from Buffer and plain Uint8Array alike', () => {
    // 32 | 20 = 52: the OR of these registers passes 51 while each of them is within range.
    const orAbove51 = dense(4097, 20);
    orAbove51[100] = 32;
    for (const bytes of [explicit(-1n, 0n), sparse([0, 51], [16383, 1]), dense(4097), orAbove51]) {
      expect(unionSketches([new Uint8Array(bytes)])).toEqual(bytes);
    }
  });
});
