/**
 * The additive measures of a metric row, in one list: the tables' columns,
 * the projector's writer, the set-based fold of a rebuild, `projections diff`
 * and the query's sums (from v3 on) are all derived from it. Adding a measure
 * (tips, say) means a line here, its field in MetricCell and the event
 * logic that fills it. Values derived from them (net amount, average ticket,
 * failure rate) are not measures: query/metric-values.ts computes them from
 * each answer's sums.
 */
export interface Measure {
  /** Column of the read-model tables (bigint, never null, zero when absent). */
  readonly column: string;
  /** Field of MetricCell (projection/metrics-delta.ts) holding it in memory. */
  readonly field: 'completedCount' | 'grossAmount' | 'refundCount' | 'refundAmount' | 'failedCount';
  /** Whether the in-memory value is a bigint (amounts) or a number (counts). */
  readonly bigint: boolean;
  /**
   * Its value over a group of rows `e` of the rebuild's event relation
   * (kind 'c' completed, 'f' failed, 'r' refunded; amount in minor units).
   */
  readonly fold: string;
}

export const MEASURES: readonly Measure[] = [
  { column: 'completed_count', field: 'completedCount', bigint: false, fold: `count(*) filter (where e.kind = 'c')` },
  { column: 'gross_amount', field: 'grossAmount', bigint: true, fold: `coalesce(sum(e.amount) filter (where e.kind = 'c'), 0)` },
  { column: 'refund_count', field: 'refundCount', bigint: false, fold: `count(*) filter (where e.kind = 'r')` },
  { column: 'refund_amount', field: 'refundAmount', bigint: true, fold: `coalesce(sum(e.amount) filter (where e.kind = 'r'), 0)` },
  { column: 'failed_count', field: 'failedCount', bigint: false, fold: `count(*) filter (where e.kind = 'f')` },
];

export const MEASURE_COLUMNS: readonly string[] = MEASURES.map((m) => m.column);
