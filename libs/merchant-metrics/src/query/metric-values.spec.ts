import { describe, expect, it } from 'vitest';
import { failureRate, metricValues, roundedAverage } from './metric-values.js';

describe('metric values', () => {
  it('rounds the average ticket half away from zero, exactly beyond 2^53', () => {
    expect(roundedAverage(10n, 4)).toBe(3n); // 2.5
    expect(roundedAverage(14n, 4)).toBe(4n); // 3.5
    expect(roundedAverage(13n, 4)).toBe(3n); // 3.25
    expect(roundedAverage(-10n, 4)).toBe(-3n); // -2.5
    expect(roundedAverage(-11n, 4)).toBe(-3n); // -2.75
    expect(roundedAverage(9_007_199_254_740_993n * 3n + 2n, 3)).toBe(9_007_199_254_740_994n);
    expect(roundedAverage(5n, 0)).toBeNull();
  });

  it('gives the failure rate as failed over completed plus failed, null when nothing was attempted', () => {
    expect(failureRate(3, 1)).toBe(0.25);
    expect(failureRate(0, 2)).toBe(1);
    expect(failureRate(5, 0)).toBe(0);
    expect(failureRate(2, 1)).toBe(1 / 3);
    expect(failureRate(2, 1)).not.toBe(0.333); // not rounded to a few digits
    expect(failureRate(0, 0)).toBeNull();
    // Past 2^31 (a GraphQL Int's end) the counts are still exact.
    expect(failureRate(3_000_000_000, 1_000_000_000)).toBe(0.25);
  });

  it('derives net amount and average ticket', () => {
    const sums = { transactionCount: 3, grossAmount: 1000n, refundCount: 1, refundAmount: 250n, failedCount: 2 };
    expect(metricValues('JPY', sums, 2)).toEqual({
      currency: 'JPY', transactionCount: 3, grossAmount: 1000n, refundCount: 1, refundAmount: 250n,
      netAmount: 750n, failedCount: 2, averageTicket: 333n, uniqueCustomers: 2, uniqueCustomersExact: true,
    });
    expect(metricValues('JPY', { ...sums, transactionCount: 0, grossAmount: 0n }, 0).averageTicket).toBeNull();
  });
});
