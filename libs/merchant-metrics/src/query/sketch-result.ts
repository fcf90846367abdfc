import { SketchAccumulator } from '@app/sketches';
import type { BucketPlan } from './bucket-plan.js';
import type { MetricsCell, MetricsResult } from './metrics-sql.js';
import type { SketchSqlRow } from './sketch-metrics-sql.js';

/** Feeds the length-prefixed sketches of one row (sketch-metrics-sql.ts) to `into`, and to `also` when given. */
function mergeConcatenated(bytes: Uint8Array, into: SketchAccumulator, also?: SketchAccumulator): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.byteLength;) {
    const length = view.getInt32(at);
    const sketch = bytes.subarray(at + 4, at + 4 + length);
    into.addEncoded(sketch);
    also?.addEncoded(sketch);
    at += 4 + length;
  }
}

/**
 * The rows of sketchMetricsSql as the MetricsResult that assembleAnswer
 * turns into an answer: per output bucket and series the sums and the
 * estimate of the merged sketches, and per currency the estimate over the
 * answer's range (every sketch of a bucket inside it, merged: a customer
 * seen in two buckets counts once). Each count says whether it is exact.
 */
export function sketchResult(plan: Pick<BucketPlan, 'range' | 'grid'>, rows: readonly SketchSqlRow[], customers: boolean): MetricsResult {
  const cells: MetricsCell[] = [];
  const totals = new Map<string, SketchAccumulator>();
  const cell = new SketchAccumulator();
  const [from, to] = plan.range;
  // A grouped answer brings rows without dimensions for its totals; otherwise its own rows are them.
  const separateTotals = rows.some((r) => r.totals_only === true);
  const totalFor = (r: SketchSqlRow, i: number): SketchAccumulator | undefined => {
    const start = plan.grid[i - 1];
    if (start < from || start >= to) return undefined;
    let total = totals.get(r.currency);
    if (total === undefined) totals.set(r.currency, (total = new SketchAccumulator()));
    return total;
  };
  for (const r of rows) {
    if (r.i === null || r.i === undefined) continue;
    const i = Number(r.i);
    if (r.totals_only === true) {
      const total = customers && r.sketches ? totalFor(r, i) : undefined;
      if (total !== undefined) mergeConcatenated(r.sketches!, total);
      continue;
    }
    let count = 0;
    let exact = true;
    if (customers && r.sketches) {
      cell.reset();
      mergeConcatenated(r.sketches, cell, separateTotals ? undefined : totalFor(r, i));
      ({ count, exact } = cell.estimate());
    }
    cells.push([i, r.currency, r.method, r.store, r.completed_count, r.gross_amount, r.refund_count, r.refund_amount, r.failed_count, count, exact]);
  }
  const result: MetricsResult = { cells, totals: {}, totalsExact: {} };
  for (const [currency, sketch] of totals) {
    const { count, exact } = sketch.estimate();
    result.totals[currency] = count;
    result.totalsExact![currency] = exact;
  }
  return result;
}
