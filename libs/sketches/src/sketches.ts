import { SketchAccumulator, type SketchEstimate } from './sketch-accumulator.js';
import { estimateFromHistogram } from './estimator.js';
import { newHistogram, registersHistogram, sparseHistogram } from './histogram.js';
import { validateSketch } from './sketch-format.js';

/** The sketch of a set of customer ids; null when it is empty. */
export function encodeIds(ids: Iterable<string>): Buffer | null {
  const accumulator = new SketchAccumulator();
  for (const id of ids) accumulator.addId(id);
  return accumulator.encode();
}

/** The sketch of the union of the sets of `bufs` (nulls are empty sets). */
export function unionSketches(bufs: Iterable<Uint8Array | null>): Buffer | null {
  const accumulator = new SketchAccumulator();
  for (const buf of bufs) accumulator.addEncoded(buf);
  return accumulator.encode();
}

/** The estimate of one encoded sketch, without building an accumulator's register array. */
export function estimateSketch(buf: Uint8Array | null): SketchEstimate {
  if (buf === null) return { count: 0, exact: true };
  switch (validateSketch(buf)) {
    case 'explicit':
      return { count: (buf.length - 1) / 8, exact: true };
    case 'sparse':
      return { count: estimateFromHistogram(sparseHistogram(buf, newHistogram())), exact: false };
    case 'dense':
      return { count: estimateFromHistogram(registersHistogram(buf, 1, newHistogram())), exact: false };
  }
}
