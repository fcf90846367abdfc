/**
 * Samples ranks k in [first, last] with P(k) proportional to k^-exponent, in
 * O(1) per sample and no table, by rejection-inversion (Hörmann and
 * Derflinger, "Rejection-inversion to generate variates from monotone
 * discrete distributions", 1996). The hat is the continuous density x^-s over
 * [first - 1/2, last + 1/2]: its integral H is inverted to pick a point x,
 * which is rounded to a rank k, and kept when it falls in the last h(k) of
 * k's strip (h is convex, so every strip of width 1 holds at least h(k)).
 * The first rank's strip is exactly h(first) wide, so it is never rejected.
 * Works for any exponent > 0, 1 included (H is then a logarithm).
 */
export class ZipfSampler {
  private readonly low: number;
  private readonly high: number;

  constructor(readonly first: number, readonly last: number, readonly exponent: number, private readonly random: () => number) {
    if (!(exponent > 0) || !Number.isInteger(first) || !Number.isInteger(last) || first < 1 || last < first) {
      throw new Error(`ZipfSampler needs integers 1 <= first <= last and an exponent > 0 (got ${first}, ${last}, ${exponent})`);
    }
    this.low = this.integral(first + 0.5) - this.density(first);
    this.high = this.integral(last + 0.5);
  }

  sample(): number {
    for (;;) {
      const u = this.high + this.random() * (this.low - this.high);
      const x = this.inverse(u);
      const k = Math.min(this.last, Math.max(this.first, Math.round(x)));
      if (u >= this.integral(k + 0.5) - this.density(k)) return k;
    }
  }

  private density(x: number): number {
    return Math.exp(-this.exponent * Math.log(x));
  }

  /** H(x) = ∫_1^x t^-s dt = (x^(1-s) - 1) / (1 - s), written so that it stays exact as s approaches 1. */
  private integral(x: number): number {
    const logX = Math.log(x);
    return expm1OverT((1 - this.exponent) * logX) * logX;
  }

  private inverse(u: number): number {
    const t = Math.max(-1 + 1e-12, u * (1 - this.exponent));
    return Math.exp(log1pOverT(t) * u);
  }
}

/** (e^t - 1) / t, 1 at t = 0. */
function expm1OverT(t: number): number {
  return Math.abs(t) > 1e-8 ? Math.expm1(t) / t : 1 + t / 2;
}

/** ln(1 + t) / t, 1 at t = 0. */
function log1pOverT(t: number): number {
  return Math.abs(t) > 1e-8 ? Math.log1p(t) / t : 1 - t / 2;
}

/** Σ k^-s for k in [first, last]: the normalising constant, for expected counts. */
export function zipfWeightSum(first: number, last: number, exponent: number): number {
  let sum = 0;
  // Smallest terms first, so the sum keeps their digits.
  for (let k = last; k >= first; k--) sum += Math.pow(k, -exponent);
  return sum;
}
