import type { BucketPlan } from './bucket-plan.js';
import { addSums, emptySums, metricValues, type MetricSums } from './metric-values.js';
import type { Dimension, MetricsAnswer, MetricsSeries, MetricValues } from './metrics-query.js';
import type { MetricsCell, MetricsResult } from './metrics-sql.js';
import { assertSeriesWithinCap, type QueryLimits } from './query-limits.js';

interface SeriesData {
  currency: string;
  method: string | null;
  store: string | null;
  sums: Map<number, MetricSums>;
  customers: Map<number, number>;
  exact: Map<number, boolean>;
}

function compareKeys(a: SeriesData, b: SeriesData): number {
  for (const [x, y] of [[a.currency, b.currency], [a.method ?? '', b.method ?? ''], [a.store ?? '', b.store ?? '']]) {
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function sumsOf(cell: MetricsCell): MetricSums {
  return {
    transactionCount: Number(cell[4]),
    grossAmount: BigInt(cell[5]),
    refundCount: Number(cell[6]),
    refundAmount: BigInt(cell[7]),
    failedCount: Number(cell[8]),
  };
}

/** Turns the result of metricsSql into the answer: zero-filled series in order, totals per currency. */
export function assembleAnswer(
  plan: BucketPlan, groupBy: Dimension[], result: MetricsResult, limits?: Pick<QueryLimits, 'maxSeries'>,
): Omit<MetricsAnswer, 'freshness'> {
  const byMethod = groupBy.includes('PAYMENT_METHOD');
  const byStore = groupBy.includes('STORE');
  const series = new Map<string, SeriesData>();
  for (const cell of result.cells) {
    const [i, currency, method, store] = cell;
    const key = `${currency}\u0000${method}\u0000${store}`;
    let data = series.get(key);
    if (data === undefined) {
      data = { currency, method: byMethod ? method : null, store: byStore ? store : null, sums: new Map(), customers: new Map(), exact: new Map() };
      series.set(key, data);
    }
    // width_bucket numbers boundaries from 1: bucket i begins at grid[i - 1].
    const start = plan.gridStarts[i - 1];
    data.sums.set(start, sumsOf(cell));
    data.customers.set(start, Number(cell[9]));
    if (cell[10] === false) data.exact.set(start, false);
  }

  // Before the zero-filled points are built: their size is series × buckets.
  if (limits) assertSeriesWithinCap(series.size, limits);
  const ordered = [...series.values()].sort(compareKeys);
  // Most points of a sparse series are empty: they share one zero value per currency, and points share start dates.
  const zeros = new Map<string, MetricValues>();
  const zero = (currency: string): MetricValues => {
    let values = zeros.get(currency);
    if (values === undefined) zeros.set(currency, (values = metricValues(currency, emptySums(), 0)));
    return values;
  };
  const valuesAt = (data: SeriesData, start: number): MetricValues => {
    const sums = data.sums.get(start);
    // Customers are counted only where there are sums (they come with a completed payment).
    return sums === undefined ? zero(data.currency) : metricValues(data.currency, sums, data.customers.get(start) ?? 0, data.exact.get(start) ?? true);
  };
  const startDates = plan.starts.map((start) => new Date(start));

  const answerSeries: MetricsSeries[] = ordered.map((data) => ({
    currency: data.currency,
    paymentMethod: data.method,
    storeId: data.store,
    points: plan.starts.map((start, k) => ({
      start: startDates[k],
      values: valuesAt(data, start),
      previous: plan.comparisonStarts ? valuesAt(data, plan.comparisonStarts[k]) : null,
    })),
  }));

  const totals = new Map<string, MetricSums>();
  for (const data of ordered) {
    for (const start of plan.starts) {
      const sums = data.sums.get(start);
      if (sums === undefined) continue;
      let total = totals.get(data.currency);
      if (total === undefined) totals.set(data.currency, (total = emptySums()));
      addSums(total, sums);
    }
  }
  return {
    // Series are sorted by currency first, so totals come out in currency order too.
    totals: [...totals].map(([currency, sums]) => metricValues(currency, sums, Number(result.totals[currency] ?? 0), result.totalsExact?.[currency] ?? true)),
    series: answerSeries,
  };
}
