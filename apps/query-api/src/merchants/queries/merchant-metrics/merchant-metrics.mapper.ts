import { SKETCH_STANDARD_ERROR } from '@app/sketches';
import { failureRate, type MetricsAnswer, type MetricsQuery, type MetricValues } from '@app/merchant-metrics';
import type { MerchantMetricsArgs } from './merchant-metrics.args.js';
import type { MetricValuesModel } from './metric-values.type.js';
import type { MetricsResultModel } from './metrics-result.type.js';

/**
 * GraphQL arguments to the read side's question. Everything about the
 * question's validity (zone, range, limits) is the reader's to judge, in one
 * place: it refuses with QueryRejectedError, answered as BAD_USER_INPUT.
 * A null timeZone or groupBy (allowed by the contract) means the default.
 */
export function toMetricsQuery(args: MerchantMetricsArgs): MetricsQuery {
  return {
    merchantId: args.merchantId,
    from: args.from,
    to: args.to,
    granularity: args.granularity,
    timeZone: args.timeZone ?? 'UTC',
    groupBy: args.groupBy ?? [],
    ...(args.compareTo ? { compareTo: args.compareTo } : {}),
  };
}

function toValues(v: MetricValues): MetricValuesModel {
  return {
    currency: v.currency,
    transactionCount: v.transactionCount,
    grossAmount: v.grossAmount.toString(),
    refundCount: v.refundCount,
    refundAmount: v.refundAmount.toString(),
    netAmount: v.netAmount.toString(),
    failedCount: v.failedCount,
    averageTicket: v.averageTicket === null ? null : v.averageTicket.toString(),
    failureRate: failureRate(v.transactionCount, v.failedCount),
    uniqueCustomers: v.uniqueCustomers,
    uniqueCustomersExact: v.uniqueCustomersExact,
    uniqueCustomersStandardError: v.uniqueCustomersExact ? 0 : SKETCH_STANDARD_ERROR,
  };
}

/**
 * bigint amounts become decimal strings: GraphQL has no 64-bit integer and JSON numbers lose precision past 2^53.
 * Values the answer shares between points (its empty buckets) are converted once.
 */
export function toMetricsResult(answer: MetricsAnswer): MetricsResultModel {
  const converted = new Map<MetricValues, MetricValuesModel>();
  const values = (v: MetricValues): MetricValuesModel => {
    let model = converted.get(v);
    if (model === undefined) converted.set(v, (model = toValues(v)));
    return model;
  };
  return {
    freshness: { ...answer.freshness, replicaLagSeconds: answer.freshness.replicaLagSeconds ?? null },
    totals: answer.totals.map(toValues),
    series: answer.series.map((s) => ({
      currency: s.currency,
      paymentMethod: s.paymentMethod,
      storeId: s.storeId,
      points: s.points.map((p) => ({ start: p.start, values: values(p.values), previous: p.previous === null ? null : values(p.previous) })),
    })),
  };
}
