import { describe, expect, it } from 'vitest';
import { SKETCH_STANDARD_ERROR } from './constants.js';
import { sigma, tau } from './estimator.js';
import { SketchAccumulator } from './sketch-accumulator.js';
import { estimateSketch } from './sketches.js';
import { RandomWords } from './testing/random-words.js';
import { distinct } from './testing/threshold-sets.js';

interface ErrorFigures {
  size: number;
  trials: number;
  rms: number;
  p99: number;
  exact: boolean;
}

/** Relative errors of `trials` random sets of exactly `size` distinct hashes. */
function measure(random: RandomWords, size: number, trials: number): ErrorFigures {
  const accumulator = new SketchAccumulator();
  const errors: number[] = [];
  let exact = true;
  for (let t = 0; t < trials; t++) {
    accumulator.reset();
    // Random 64-bit words: a repeat among 10^6 of them has probability ~3·10^-8, so the size is known.
    for (let i = 0; i < size; i++) accumulator.addHashWords(random.next(), random.next());
    const estimate = accumulator.estimate();
    expect(estimateSketch(accumulator.encode())).toEqual(estimate);
    exact &&= estimate.exact;
    errors.push(Math.abs(estimate.count - size) / size);
  }
  errors.sort((a, b) => a - b);
  const rms = Math.sqrt(errors.reduce((sum, e) => sum + e * e, 0) / trials);
  return { size, trials, rms, p99: errors[Math.min(trials - 1, Math.ceil(0.99 * trials) - 1)], exact };
}

describe('estimates', () => {
  it('are exact up to 256 and within 1% RMS from there to a million', () => {
    const random = new RandomWords(99);
    const plan: Array<[number, number]> = [
      [10, 100], [100, 100], [256, 100], [257, 400], [300, 400], [1000, 400], [4700, 300],
      [10_000, 300], [50_000, 100], [100_000, 100], [1_000_000, 30],
    ];
    const figures = plan.map(([size, trials]) => measure(random, size, trials));
    console.log(
      `sketch estimate error (standard error 1.04/√m = ${(100 * SKETCH_STANDARD_ERROR).toFixed(2)}%)\n` +
        figures.map((f) => `  n=${f.size}: ${f.trials} sets, RMS ${(100 * f.rms).toFixed(3)}%, p99 |error| ${(100 * f.p99).toFixed(3)}%${f.exact ? ' (exact)' : ''}`).join('\n'),
    );
    for (const f of figures) {
      if (f.size <= 256) expect(f, `n=${f.size}`).toMatchObject({ exact: true, rms: 0 });
      else expect(f.exact).toBe(false);
      expect(f.rms, `RMS at n=${f.size}`).toBeLessThanOrEqual(0.01);
      expect(f.p99, `p99 at n=${f.size}`).toBeLessThanOrEqual(0.03);
    }
  }, 60_000);

  it('hold for real MD5 hashes of ids', () => {
    const random = new RandomWords(5);
    const accumulator = new SketchAccumulator();
    const errors: number[] = [];
    for (let t = 0; t < 12; t++) {
      accumulator.reset();
      const ids = distinct(20_000, () => random.id());
      for (const id of ids) accumulator.addId(id);
      errors.push((accumulator.estimate().count - ids.length) / ids.length);
    }
    // 12 draws of an error with standard deviation under 0.81%: each within four of them.
    for (const e of errors) expect(Math.abs(e)).toBeLessThan(4 * SKETCH_STANDARD_ERROR);
  });
});

describe('σ and τ', () => {
  it('sum their series to the closed forms at the ends and agree with direct sums inside', () => {
    expect(sigma(0)).toBe(0);
    expect(sigma(1)).toBe(Infinity);
    expect(tau(0)).toBe(0);
    expect(tau(1)).toBe(0);
    // Direct partial sums with exponentials, an independent route to the same series.
    for (const x of [0.001, 0.3, 0.5, 0.9, 0.999]) {
      let s = x;
      for (let k = 1; k < 60; k++) s += x ** 2 ** k * 2 ** (k - 1);
      expect(Math.abs(sigma(x) - s) / s).toBeLessThan(1e-13);
      let t = 1 - x;
      for (let k = 1; k < 60; k++) t -= (1 - x ** 2 ** -k) ** 2 * 2 ** -k;
      expect(Math.abs(tau(x) - t / 3) / (t / 3)).toBeLessThan(1e-13);
    }
  });
});
