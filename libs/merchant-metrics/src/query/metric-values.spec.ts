import { describe, expect, it } from 'vitest';
import { metricValues, roundedAverage } from './metric-values.js';

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

  it('derives net amount and average ticket', () => {
    const sums = { transactionCount: 3, grossAmount: 1000n, refundCount: 1, refundAmount: 250n, failedCount: 2 };
    expect(metricValues('JPY', sums, 2)).toEqual({
      currency: 'JPY', transactionCount: 3, grossAmount: 1000n, refundCount: 1, refundAmount: 250n,
      netAmount: 750n, failedCount: 2, averageTicket: 333n, uniqueCustomers: 2, uniqueCustomersExact: true,
    });
    expect(metricValues('JPY', { ...sums, transactionCount: 0, grossAmount: 0n }, 0).averageTicket).toBeNull();
  });
});
