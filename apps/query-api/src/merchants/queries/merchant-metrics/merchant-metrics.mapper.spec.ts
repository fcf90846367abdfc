import { describe, expect, it } from 'vitest';
import type { MetricsAnswer, MetricValues } from '@app/merchant-metrics';
import { toMetricsResult } from './merchant-metrics.mapper.js';

const values = (transactionCount: number, failedCount: number): MetricValues => ({
  currency: 'JPY', transactionCount, grossAmount: 1000n, refundCount: 0, refundAmount: 0n, netAmount: 1000n,
  failedCount, averageTicket: transactionCount === 0 ? null : 1000n / BigInt(transactionCount), uniqueCustomers: 1, uniqueCustomersExact: true,
});

describe('toMetricsResult', () => {
  it('gives every value its failure rate, failed over attempted, null when nothing was attempted', () => {
    const answer: MetricsAnswer = {
      freshness: { asOf: new Date('2026-11-20T00:00:00Z'), lagSeconds: 0, version: 3 },
      totals: [values(6, 2)],
      series: [{
        currency: 'JPY', paymentMethod: null, storeId: null,
        points: [
          { start: new Date('2026-11-19T15:00:00Z'), values: values(1, 2), previous: values(0, 0) },
          { start: new Date('2026-11-20T15:00:00Z'), values: values(5, 0), previous: values(0, 3) },
        ],
      }],
    };
    const result = toMetricsResult(answer);
    expect(result.totals[0]!.failureRate).toBe(0.25);
    expect(result.series[0]!.points.map((p) => [p.values.failureRate, p.previous?.failureRate])).toEqual([[2 / 3, null], [0, 1]]);
    expect(result.totals[0]!.averageTicket).toBe('166');
  });
});
