/**
 * Computes, in the application, the hash partition PostgreSQL routes a
 * merchant's events to (`PARTITION BY HASH (merchant_id)` with the default
 * text hash opclass). Appends need it up front to take the right partition's
 * position counter; a CHECK constraint on every partition guards the result.
 *
 * PostgreSQL hashes the key with hashtextextended(key, HASH_PARTITION_SEED),
 * a 64-bit-seeded Jenkins lookup3 over the UTF-8 bytes, folds it into a row
 * hash with hash_combine64(0, h), and takes the row hash modulo the number of
 * partitions.
 */
const HASH_PARTITION_SEED = 0x7a5b22367996dcfdn;
const HASH_COMBINE_CONSTANT = 0x49a0f4dd15e5a8e3n;
const MASK_64 = (1n << 64n) - 1n;

function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** hash_bytes_extended from PostgreSQL's hashfn.c: returns the 64-bit hash as (hi, lo) = (b, c). */
export function hashBytesExtended(bytes: Uint8Array, seed: bigint): bigint {
  let len = bytes.length;
  let a = (0x9e3779b9 + len + 3923095) | 0;
  let b = a;
  let c = a;

  const mix = () => {
    a = (a - c) | 0; a ^= rot(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rot(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 4); b = (b + a) | 0;
  };

  if (seed !== 0n) {
    a = (a + Number((seed >> 32n) & 0xffffffffn)) | 0;
    b = (b + Number(seed & 0xffffffffn)) | 0;
    mix();
  }

  const word = (i: number) => bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
  let k = 0;
  while (len >= 12) {
    a = (a + word(k)) | 0;
    b = (b + word(k + 4)) | 0;
    c = (c + word(k + 8)) | 0;
    mix();
    k += 12;
    len -= 12;
  }
  // Tail bytes, little-endian; the lowest byte of c is left for the length, as in lookup3.
  if (len >= 11) c = (c + (bytes[k + 10] << 24)) | 0;
  if (len >= 10) c = (c + (bytes[k + 9] << 16)) | 0;
  if (len >= 9) c = (c + (bytes[k + 8] << 8)) | 0;
  if (len >= 8) b = (b + (bytes[k + 7] << 24)) | 0;
  if (len >= 7) b = (b + (bytes[k + 6] << 16)) | 0;
  if (len >= 6) b = (b + (bytes[k + 5] << 8)) | 0;
  if (len >= 5) b = (b + bytes[k + 4]) | 0;
  if (len >= 4) a = (a + (bytes[k + 3] << 24)) | 0;
  if (len >= 3) a = (a + (bytes[k + 2] << 16)) | 0;
  if (len >= 2) a = (a + (bytes[k + 1] << 8)) | 0;
  if (len >= 1) a = (a + bytes[k]) | 0;

  c ^= b; c = (c - rot(b, 14)) | 0;
  a ^= c; a = (a - rot(c, 11)) | 0;
  b ^= a; b = (b - rot(a, 25)) | 0;
  c ^= b; c = (c - rot(b, 16)) | 0;
  a ^= c; a = (a - rot(c, 4)) | 0;
  b ^= a; b = (b - rot(a, 14)) | 0;
  c ^= b; c = (c - rot(b, 24)) | 0;

  return (BigInt(b >>> 0) << 32n) | BigInt(c >>> 0);
}

/** The hash partition (0-based remainder) PostgreSQL stores this merchant's rows in. */
export function partitionOf(merchantId: string, partitions: number): number {
  const hash = hashBytesExtended(Buffer.from(merchantId, 'utf8'), HASH_PARTITION_SEED);
  const rowHash = (hash + HASH_COMBINE_CONSTANT) & MASK_64;
  return Number(rowHash % BigInt(partitions));
}

/** partitionOf with a bounded memo: merchants repeat heavily within and across batches. */
export class PartitionRouter {
  private readonly cache = new Map<string, number>();

  constructor(readonly partitions: number, private readonly cacheSize = 100_000) {}

  partitionOf(merchantId: string): number {
    let p = this.cache.get(merchantId);
    if (p === undefined) {
      p = partitionOf(merchantId, this.partitions);
      if (this.cache.size >= this.cacheSize) this.cache.clear();
      this.cache.set(merchantId, p);
    }
    return p;
  }
}
