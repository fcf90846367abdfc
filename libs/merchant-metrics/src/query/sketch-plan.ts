import type { BucketPlan } from './bucket-plan.js';
import { DAY_MS, HOUR_MS } from './time-buckets.js';

/** The [from, to) spans of stored buckets to read from each grain of the sketches layout. */
export interface GrainSpans {
  daily: Array<[number, number]>;
  hourly: Array<[number, number]>;
  quarter: Array<[number, number]>;
}

const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;
const floorTo = (t: number, step: number) => Math.floor(t / step) * step;

function push(spans: Array<[number, number]>, from: number, to: number): void {
  if (from >= to) return;
  const last = spans[spans.length - 1];
  if (last !== undefined && last[1] === from) last[1] = to;
  else spans.push([from, to]);
}

/**
 * Splits every output bucket [grid[k], grid[k+1]) that the plan reads into the
 * coarsest stored rows that tile it exactly: whole UTC days from the daily
 * rows, whole UTC hours from the hourly ones, and 15-minute rows only at the
 * edges (zones with half- and quarter-hour offsets). No stored row straddles
 * an output boundary, so grouping rows by the bucket they start in is exact;
 * adjacent spans of one grain are merged. A Tokyo day reads 24 hourly rows
 * per series, a UTC day one daily row, a Kolkata day 23 hourly and 4
 * 15-minute rows.
 */
export function planGrainSpans(plan: Pick<BucketPlan, 'grid' | 'ranges'>): GrainSpans {
  const spans: GrainSpans = { daily: [], hourly: [], quarter: [] };
  const { grid, ranges } = plan;
  for (let k = 0; k + 1 < grid.length; k++) {
    const a = grid[k];
    const b = grid[k + 1];
    if (!ranges.some(([from, to]) => from <= a && b <= to)) continue; // between the range and its comparison
    const hourFrom = ceilTo(a, HOUR_MS);
    const hourTo = floorTo(b, HOUR_MS);
    if (hourFrom >= hourTo) {
      push(spans.quarter, a, b);
      continue;
    }
    push(spans.quarter, a, hourFrom);
    const dayFrom = ceilTo(hourFrom, DAY_MS);
    const dayTo = floorTo(hourTo, DAY_MS);
    if (dayFrom < dayTo) {
      push(spans.hourly, hourFrom, dayFrom);
      push(spans.daily, dayFrom, dayTo);
      push(spans.hourly, dayTo, hourTo);
    } else {
      push(spans.hourly, hourFrom, hourTo);
    }
    push(spans.quarter, hourTo, b);
  }
  return spans;
}
