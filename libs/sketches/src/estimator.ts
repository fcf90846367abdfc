import { RHO_BITS, SKETCH_REGISTERS } from './constants.js';

/**
 * Ertl's improved raw estimator ("New cardinality estimation algorithms for HyperLogLog sketches",
 * 2017, algorithm 6) over a histogram of register values: `histogram[k]` registers hold k, for
 * k = 0..q+1 with q = 50. It needs no bias tables and is unbiased from tens to billions.
 *
 * sketch-functions.ts repeats these steps in PL/pgSQL in the same order of IEEE double operations, so
 * both sides round to the same integer: change one, change the other.
 */
export function estimateFromHistogram(histogram: ArrayLike<number>): number {
  const m = SKETCH_REGISTERS;
  const q = RHO_BITS;
  let z = m * tau(1 - histogram[q + 1] / m);
  for (let k = q; k >= 1; k--) z = 0.5 * (z + histogram[k]);
  z += m * sigma(histogram[0] / m);
  // α∞·m²/z with α∞ = 1/(2 ln 2); floor(x + 0.5) because SQL's round() on float8 rounds halves to even.
  return Math.floor((m * m) / (2 * Math.LN2 * z) + 0.5);
}

/** σ(x) = x + Σ_{k≥1} x^(2^k)·2^(k−1), summed until a term no longer changes the double. */
export function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const previous = z;
    z += x * y;
    y += y;
    if (z === previous) return z;
  }
}

/** τ(x) = (1 − x − Σ_{k≥1} (1 − x^(2^−k))²·2^−k) / 3, summed until the double stops changing. */
export function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const previous = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
    if (z === previous) return z / 3;
  }
}
