import type { MetricValues } from './metrics-query.js';

/** The additive part of MetricValues, summed exactly (amounts as bigint minor units). */
export interface MetricSums {
  transactionCount: number;
  grossAmount: bigint;
  refundCount: number;
  refundAmount: bigint;
  failedCount: number;
}

export function emptySums(): MetricSums {
  return { transactionCount: 0, grossAmount: 0n, refundCount: 0, refundAmount: 0n, failedCount: 0 };
}

export function addSums(into: MetricSums, more: MetricSums): void {
  into.transactionCount += more.transactionCount;
  into.grossAmount += more.grossAmount;
  into.refundCount += more.refundCount;
  into.refundAmount += more.refundAmount;
  into.failedCount += more.failedCount;
}

/** total / count rounded half away from zero; null when count is 0. */
export function roundedAverage(total: bigint, count: number): bigint | null {
  if (count === 0) return null;
  const n = BigInt(count);
  const magnitude = total < 0n ? -total : total;
  const rounded = (2n * magnitude + n) / (2n * n);
  return total < 0n ? -rounded : rounded;
}

/**
 * Failed attempts over all attempts, failed / (completed + failed), as the
 * double nearest the exact quotient (both counts are below 2^53, so any client
 * dividing the two counts gets the same number); null when nothing was
 * attempted. Refunds are not attempts.
 */
export function failureRate(completedCount: number, failedCount: number): number | null {
  const attempted = completedCount + failedCount;
  return attempted === 0 ? null : failedCount / attempted;
}

export function metricValues(currency: string, sums: MetricSums, uniqueCustomers: number, uniqueCustomersExact = true): MetricValues {
  return {
    currency,
    transactionCount: sums.transactionCount,
    grossAmount: sums.grossAmount,
    refundCount: sums.refundCount,
    refundAmount: sums.refundAmount,
    netAmount: sums.grossAmount - sums.refundAmount,
    failedCount: sums.failedCount,
    averageTicket: roundedAverage(sums.grossAmount, sums.transactionCount),
    uniqueCustomers,
    uniqueCustomersExact,
  };
}
