import { RHO_MAX, SKETCH_REGISTERS } from './constants.js';
import { readSparseEntry } from './sketch-format.js';

/** A histogram of register values 0..51, the estimator's only input. */
export function newHistogram(): Float64Array {
  return new Float64Array(RHO_MAX + 1);
}

/** Histogram of the 16,384 registers at `bytes[start..]` (an accumulator's array or a dense sketch). */
export function registersHistogram(bytes: Uint8Array, start: number, out: Float64Array): Float64Array {
  out.fill(0);
  const end = start + SKETCH_REGISTERS;
  for (let i = start; i < end; i++) out[bytes[i]]++;
  return out;
}

/** Histogram of a validated sparse sketch: its entries, and zero for every register it leaves out. */
export function sparseHistogram(buf: Uint8Array, out: Float64Array): Float64Array {
  out.fill(0);
  const entries = (buf.length - 1) / 3;
  out[0] = SKETCH_REGISTERS - entries;
  for (let o = 1; o < buf.length; o += 3) out[readSparseEntry(buf, o) & 63]++;
  return out;
}
