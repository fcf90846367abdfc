import { referenceRegister } from './reference-sketch.js';

/**
 * Grows `items` with `next()` until their hashes set exactly `registers` distinct registers: sets of
 * the 4,096 / 4,097 non-zero registers that separate the sparse and dense forms. Returns a new array.
 */
export function growUntilRegisters<T>(items: T[], registers: number, next: () => T, hashOf: (item: T) => bigint): T[] {
  const out = [...items];
  const touched = new Set(out.map((item) => referenceRegister(hashOf(item)).index));
  if (touched.size > registers) throw new Error(`already ${touched.size} registers`);
  while (touched.size < registers) {
    const item = next();
    out.push(item);
    touched.add(referenceRegister(hashOf(item)).index);
  }
  return out;
}

/** `n` distinct items from `next()`. */
export function distinct<T>(n: number, next: () => T): T[] {
  const seen = new Set<T>();
  while (seen.size < n) seen.add(next());
  return [...seen];
}
