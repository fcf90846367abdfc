import { hash } from 'node:crypto';
import { RHO_BITS, RHO_MAX, SKETCH_PRECISION } from './constants.js';

/**
 * A 64-bit customer hash as two 32-bit words, so the hot paths (the projector hashing ids, merges of
 * thousands of sketches) never touch BigInt. `hi` is the signed top word (int32): comparing (hi, then
 * lo as unsigned) is the signed 64-bit order the explicit form is sorted in.
 */
export interface HashWords {
  hi: number;
  lo: number;
}

/** Doc 0008's hash as the words of `out` (reused by callers that hash many ids). */
export function customerHashWords(id: string, out: HashWords = { hi: 0, lo: 0 }): HashWords {
  const digest = hash('md5', id, 'buffer');
  out.hi = digest.readInt32BE(0);
  out.lo = digest.readUInt32BE(4);
  return out;
}

/** Doc 0008's hash: the first 8 bytes of MD5(UTF-8 id), big-endian two's complement. */
export function customerHash(id: string): bigint {
  return hash('md5', id, 'buffer').readBigInt64BE(0);
}

export function wordsToHash(hi: number, lo: number): bigint {
  return (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
}

export function hashToWords(h: bigint, out: HashWords = { hi: 0, lo: 0 }): HashWords {
  out.hi = Number(BigInt.asIntN(32, h >> 32n));
  out.lo = Number(BigInt.asUintN(32, h));
  return out;
}

/** Top 14 bits of the unsigned hash. */
export function registerIndex(hi: number): number {
  return hi >>> (32 - SKETCH_PRECISION);
}

// The 50 low bits are the top word's low 18 bits followed by the 32 bits of `lo`.
const HI_LOW_BITS = RHO_BITS - 32;
const HI_LOW_MASK = (1 << HI_LOW_BITS) - 1;

/** ρ: leading zeros of the low 50 bits, plus one; 51 when they are all zero. */
export function registerRho(hi: number, lo: number): number {
  const top = hi & HI_LOW_MASK;
  if (top !== 0) return Math.clz32(top) - (32 - HI_LOW_BITS) + 1;
  if (lo !== 0) return HI_LOW_BITS + Math.clz32(lo) + 1;
  return RHO_MAX;
}
