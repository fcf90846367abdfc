import {
  DENSE_TAG, EXPLICIT_MAX, EXPLICIT_TAG, RHO_MAX, SKETCH_REGISTERS, SPARSE_MAX, SPARSE_TAG, type SketchForm,
} from './constants.js';

/** A byte string that is not a canonical sketch of doc 0008. */
export class SketchFormatError extends Error {
  override name = 'SketchFormatError';
}

export const DENSE_BYTES = 1 + SKETCH_REGISTERS;

/** Big-endian int32 at `offset` (the signed top word of an explicit entry). */
export function readInt32(b: Uint8Array, offset: number): number {
  return (b[offset] << 24) | (b[offset + 1] << 16) | (b[offset + 2] << 8) | b[offset + 3];
}

/** Big-endian 24-bit sparse entry `index * 64 + ρ` at `offset`. */
export function readSparseEntry(b: Uint8Array, offset: number): number {
  return (b[offset] << 16) | (b[offset + 1] << 8) | b[offset + 2];
}

/**
 * The form of `buf`, after checking every rule of the format, so a corrupt cell fails loudly instead
 * of merging into wrong counts. Canonical means the form the set alone chooses: an explicit sketch
 * past 256 hashes, or a dense one with at most 4,096 non-zero registers, is rejected too.
 */
export function validateSketch(buf: Uint8Array): SketchForm {
  if (buf.length === 0) throw new SketchFormatError('sketch is empty: the empty set is stored as NULL');
  switch (buf[0]) {
    case EXPLICIT_TAG:
      validateExplicit(buf);
      return 'explicit';
    case SPARSE_TAG:
      validateSparse(buf);
      return 'sparse';
    case DENSE_TAG:
      validateDense(buf);
      return 'dense';
    default:
      throw new SketchFormatError(`unknown sketch form: leading byte 0x${buf[0].toString(16).padStart(2, '0')}`);
  }
}

function validateExplicit(b: Uint8Array): void {
  const n = (b.length - 1) / 8;
  if (!Number.isInteger(n) || n < 1 || n > EXPLICIT_MAX) {
    throw new SketchFormatError(`explicit sketch of ${b.length} bytes: expected 1 + 8·n bytes, 1 ≤ n ≤ ${EXPLICIT_MAX}`);
  }
  for (let i = 1, o = 9; i < n; i++, o += 8) {
    const hi = readInt32(b, o);
    const previousHi = readInt32(b, o - 8);
    if (hi > previousHi) continue;
    if (hi === previousHi && readInt32(b, o + 4) >>> 0 > readInt32(b, o - 4) >>> 0) continue;
    throw new SketchFormatError(`explicit sketch: hash ${i} is not above hash ${i - 1} (unsorted or duplicate)`);
  }
}

function validateSparse(b: Uint8Array): void {
  const k = (b.length - 1) / 3;
  if (!Number.isInteger(k) || k < 1 || k > SPARSE_MAX) {
    throw new SketchFormatError(`sparse sketch of ${b.length} bytes: expected 1 + 3·k bytes, 1 ≤ k ≤ ${SPARSE_MAX}`);
  }
  let previous = -1;
  for (let o = 1; o < b.length; o += 3) {
    const entry = readSparseEntry(b, o);
    const index = entry >>> 6;
    const rho = entry & 63;
    if (index <= previous) throw new SketchFormatError(`sparse sketch: register ${index} after ${previous} (unsorted or duplicate)`);
    if (index >= SKETCH_REGISTERS) throw new SketchFormatError(`sparse sketch: register index ${index} out of range`);
    if (rho === 0 || rho > RHO_MAX) throw new SketchFormatError(`sparse sketch: register ${index} holds ${rho}, outside 1..${RHO_MAX}`);
    previous = index;
  }
}

function validateDense(b: Uint8Array): void {
  if (b.length !== DENSE_BYTES) throw new SketchFormatError(`dense sketch of ${b.length} bytes: expected ${DENSE_BYTES}`);
  // Branch-free pass on the query path's hottest loop: the OR of all registers bounds the largest, and
  // (v + 255) >> 8 is 1 for a non-zero byte. Only an OR above 51 needs the exact maximum.
  let any = 0;
  let nonZero = 0;
  for (let o = 1; o < DENSE_BYTES; o++) {
    const v = b[o];
    any |= v;
    nonZero += (v + 255) >> 8;
  }
  if (any > RHO_MAX) {
    let largest = 0;
    for (let o = 1; o < DENSE_BYTES; o++) if (b[o] > largest) largest = b[o];
    if (largest > RHO_MAX) throw new SketchFormatError(`dense sketch: a register holds ${largest}, above ${RHO_MAX}`);
  }
  if (nonZero <= SPARSE_MAX) {
    throw new SketchFormatError(`dense sketch with ${nonZero} non-zero registers: at most ${SPARSE_MAX} is the sparse form`);
  }
}

/** The form of an encoded sketch (validated), null for the empty set. */
export function sketchForm(buf: Uint8Array | null): SketchForm | null {
  return buf === null ? null : validateSketch(buf);
}
