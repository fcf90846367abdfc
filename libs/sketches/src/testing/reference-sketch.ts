import { createHash } from 'node:crypto';

/**
 * Doc 0008 written out the slow, obvious way (BigInt, strings of bits, a Set), for tests to compare
 * the fast encoder and the SQL with. Shares no code with the library.
 */
export function referenceHash(id: string): bigint {
  const hex = createHash('md5').update(Buffer.from(id, 'utf8')).digest('hex');
  return BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`));
}

/** Register index and ρ of a hash, from its 64-bit binary string. */
export function referenceRegister(hash: bigint): { index: number; rho: number } {
  const bits = BigInt.asUintN(64, hash).toString(2).padStart(64, '0');
  const low = bits.slice(14);
  const firstOne = low.indexOf('1');
  return { index: parseInt(bits.slice(0, 14), 2), rho: firstOne === -1 ? 51 : firstOne + 1 };
}

export function referenceSketch(hashes: Iterable<bigint>): Buffer | null {
  const distinct = [...new Set(hashes)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (distinct.length === 0) return null;
  if (distinct.length <= 256) {
    const out = Buffer.alloc(1 + 8 * distinct.length);
    out[0] = 1;
    distinct.forEach((h, i) => out.writeBigInt64BE(h, 1 + 8 * i));
    return out;
  }
  const registers = new Array<number>(16384).fill(0);
  for (const h of distinct) {
    const { index, rho } = referenceRegister(h);
    registers[index] = Math.max(registers[index], rho);
  }
  const set = registers.flatMap((rho, index) => (rho === 0 ? [] : [index * 64 + rho]));
  if (set.length > 4096) return Buffer.from([3, ...registers]);
  const out = Buffer.alloc(1 + 3 * set.length);
  out[0] = 2;
  set.forEach((entry, i) => out.writeUIntBE(entry, 1 + 3 * i, 3));
  return out;
}

/** Number of non-zero registers the hashes set, for building sets on either side of a threshold. */
export function registersTouched(hashes: Iterable<bigint>): number {
  const touched = new Set<number>();
  for (const h of hashes) touched.add(referenceRegister(h).index);
  return touched.size;
}
