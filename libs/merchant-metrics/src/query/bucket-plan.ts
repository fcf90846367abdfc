import { QueryRejectedError, type Granularity, type MetricsQuery } from './metrics-query.js';
import type { QueryLimits } from './query-limits.js';
import { bucketBoundaries, comparisonBuckets, DAY_MS, floorToBucket, HOUR_MS, QUARTER_HOUR_MS } from './time-buckets.js';

export type SourceTable = 'metrics_daily' | 'metrics_hourly' | 'metrics_15m';

/** Which buckets a query answers with, and where their rows are read from. */
export interface BucketPlan {
  /** Start of every bucket of the (widened) range, in order. */
  starts: number[];
  /** End of the last bucket. */
  end: number;
  /** For each bucket, the start of the bucket it is compared with; null without compareTo. */
  comparisonStarts: number[] | null;
  /**
   * Sorted boundaries (first instants) of every bucket read, range and
   * comparison: stored rows are grouped into output buckets by where they fall
   * among these. gridStarts[k] is the start of the bucket beginning at grid[k].
   */
  grid: number[];
  gridStarts: number[];
  /** The answer's range, [first instant of the first bucket, end of the last). */
  range: [number, number];
  /** Disjoint, ordered [from, to) spans of stored buckets to read. */
  ranges: Array<[number, number]>;
  /** The coarsest stored grid every boundary lies on, so regrouping it is exact. */
  source: SourceTable;
}

function mergeRanges(ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [from, to] of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
}

function sortedUnique(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

function onGrid(boundaries: number[], step: number): boolean {
  return boundaries.every((t) => t % step === 0);
}

/**
 * Where the bucket that date_trunc labels `start` begins. The two differ only
 * where the label is a wall-clock time the bucket does not begin with: when
 * America/Havana falls back from 01:00 to 00:00, PostgreSQL labels the day with
 * the second 00:00, an hour after its first instant; an hour cut by
 * Australia/Lord_Howe's 30-minute shift is labelled half an hour before it.
 */
function firstInstant(start: number, unit: Granularity, zone: string): number {
  let t = start;
  for (let steps = 0; steps < 96 && floorToBucket(t - QUARTER_HOUR_MS, unit, zone) === start; steps++) t -= QUARTER_HOUR_MS;
  for (let steps = 0; steps < 96 && floorToBucket(t, unit, zone) < start; steps++) t += QUARTER_HOUR_MS;
  return t;
}

/** Assumes validateQuery passed; throws QueryRejectedError for too many buckets or an unalignable range. */
export function planBuckets(query: MetricsQuery, limits: QueryLimits): BucketPlan {
  const { granularity: unit, timeZone: zone } = query;
  const boundaries = bucketBoundaries(query.from.getTime(), query.to.getTime(), unit, zone);
  const starts = boundaries.slice(0, -1);
  const end = boundaries[boundaries.length - 1];
  if (starts.length > limits.maxBuckets) {
    throw new QueryRejectedError(`the range has ${starts.length} ${unit} buckets; at most ${limits.maxBuckets} are allowed`);
  }
  const comparison = query.compareTo ? comparisonBuckets(starts, unit, zone, query.compareTo) : null;
  const gridStarts = sortedUnique(comparison ? [...boundaries, ...comparison.boundaries] : boundaries);
  const grid = gridStarts.map((start) => firstInstant(start, unit, zone));
  const at = (start: number) => grid[gridStarts.indexOf(start)];
  const range: [number, number] = [at(starts[0]), at(end)];
  const ranges = [range];
  if (comparison) ranges.push([at(comparison.boundaries[0]), at(comparison.boundaries[comparison.boundaries.length - 1])]);

  // Offsets in use today are multiples of 15 minutes; a few historical ones are
  // not (Liberia's -0:44:30 until 1972), and those are refused, not approximated.
  if (!onGrid(grid, QUARTER_HOUR_MS)) {
    throw new QueryRejectedError(`${zone} buckets in this range do not start on whole quarter hours of UTC`);
  }
  const source = onGrid(grid, DAY_MS) ? 'metrics_daily' : onGrid(grid, HOUR_MS) ? 'metrics_hourly' : 'metrics_15m';
  return { starts, end, comparisonStarts: comparison?.starts ?? null, grid, gridStarts, range, ranges: mergeRanges(ranges), source };
}
