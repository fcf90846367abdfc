import { QueryRejectedError, type Granularity, type MetricsQuery } from './metrics-query.js';
import { DAY_MS } from './time-buckets.js';
import { isValidTimeZone } from './zone-offsets.js';

/** What one query may ask for; the defaults keep every answer within one small index range scan. */
export interface QueryLimits {
  /** Most buckets in the requested range (the comparison range does not count). */
  maxBuckets: number;
  /** Longest requested range, `to - from`, per granularity. */
  maxRangeDays: Record<Granularity, number>;
  /** Most groupBy dimensions. */
  maxGroupBy: number;
  /** Most series in one answer: currencies × payment methods × stores seen in the range. */
  maxSeries: number;
}

/**
 * HOUR reads the finest rows, hence its month. DAY, WEEK and MONTH cover 13
 * months (a year compared with the one before); QUARTER 5 years and YEAR 10
 * (366-day years): longer ranges for coarser buckets, whose answers stay short
 * (at most 21 quarters or 11 years) while the rows read grow with the range.
 */
export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxBuckets: 1000,
  maxRangeDays: { HOUR: 31, DAY: 400, WEEK: 400, MONTH: 400, QUARTER: 1830, YEAR: 3660 },
  maxGroupBy: 2,
  maxSeries: 1000,
};

/**
 * Limits as configured: any part may be left out, and maxRangeDays may be one
 * number N, which bounds DAY, WEEK and MONTH ranges to N days, HOUR ranges to
 * N only up to HOUR's own default (hourly answers read the finest rows), and
 * QUARTER and YEAR ranges to their defaults or N if longer (a coarser bucket
 * is never refused a range a finer one is allowed).
 */
export type QueryLimitsInput = Partial<Omit<QueryLimits, 'maxRangeDays'>> & {
  maxRangeDays?: number | Partial<Record<Granularity, number>>;
};

export function queryLimits(input: QueryLimitsInput = {}): QueryLimits {
  const days = input.maxRangeDays;
  const defaults = DEFAULT_QUERY_LIMITS.maxRangeDays;
  const maxRangeDays: Record<Granularity, number> =
    typeof days === 'number'
      ? { HOUR: Math.min(days, defaults.HOUR), DAY: days, WEEK: days, MONTH: days, QUARTER: Math.max(days, defaults.QUARTER), YEAR: Math.max(days, defaults.YEAR) }
      : { ...defaults, ...definedOnly(days ?? {}) };
  return {
    maxBuckets: input.maxBuckets ?? DEFAULT_QUERY_LIMITS.maxBuckets,
    maxGroupBy: input.maxGroupBy ?? DEFAULT_QUERY_LIMITS.maxGroupBy,
    maxSeries: input.maxSeries ?? DEFAULT_QUERY_LIMITS.maxSeries,
    maxRangeDays,
  };
}

function definedOnly(days: Partial<Record<Granularity, number>>): Partial<Record<Granularity, number>> {
  return Object.fromEntries(Object.entries(days).filter(([, value]) => value !== undefined));
}

const GRANULARITIES: readonly string[] = ['HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'];
const DIMENSIONS: readonly string[] = ['PAYMENT_METHOD', 'STORE'];
const COMPARISONS: readonly string[] = ['PREVIOUS_PERIOD', 'PREVIOUS_YEAR'];
// Payment data starts long after 1970; the bound also keeps comparisons away from
// historical local-mean-time offsets, which no 15-minute bucket grid can follow.
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 0, 1);

function reject(message: string): never {
  throw new QueryRejectedError(message);
}

function checkInstant(name: string, value: unknown): number {
  const t = value instanceof Date ? value.getTime() : NaN;
  if (!Number.isFinite(t)) reject(`${name} is not a valid instant`);
  if (t < EARLIEST || t >= LATEST) reject(`${name} must be between 1970-01-01 and 9999-01-01, got ${(value as Date).toISOString()}`);
  return t;
}

/**
 * Checks everything that needs no bucket arithmetic; the bucket count and grid
 * alignment are checked by planBuckets. Throws QueryRejectedError.
 */
export function validateQuery(query: MetricsQuery, input: QueryLimitsInput = {}): void {
  const limits = queryLimits(input);
  if (typeof query.merchantId !== 'string' || query.merchantId === '') reject('merchantId is required');
  if (!isValidTimeZone(query.timeZone)) {
    reject(`unknown time zone "${query.timeZone}": use an IANA Area/Location name such as "Europe/Paris" or "UTC"`);
  }
  if (!GRANULARITIES.includes(query.granularity)) reject(`unknown granularity "${query.granularity}"`);
  const from = checkInstant('from', query.from);
  const to = checkInstant('to', query.to);
  if (to <= from) reject(`to (${query.to.toISOString()}) must be after from (${query.from.toISOString()})`);
  const maxDays = limits.maxRangeDays[query.granularity];
  if (to - from > maxDays * DAY_MS) {
    reject(`the range spans ${((to - from) / DAY_MS).toFixed(1)} days; at most ${maxDays} days are allowed with ${query.granularity} buckets`);
  }
  const groupBy = query.groupBy ?? [];
  if (groupBy.length > limits.maxGroupBy) reject(`at most ${limits.maxGroupBy} groupBy dimensions are allowed, got ${groupBy.length}`);
  for (const dimension of groupBy) {
    if (!DIMENSIONS.includes(dimension)) reject(`unknown groupBy dimension "${dimension}"`);
  }
  if (new Set(groupBy).size !== groupBy.length) reject(`groupBy lists a dimension twice: ${groupBy.join(', ')}`);
  if (query.compareTo !== undefined && query.compareTo !== null && !COMPARISONS.includes(query.compareTo)) {
    reject(`unknown compareTo "${query.compareTo}"`);
  }
}

/**
 * Refuses an answer with more series than limits.maxSeries. How many series a
 * question has is known only from the data (each store and method seen in the
 * range makes one per currency), so this runs once the rows are grouped,
 * before the zero-filled points are built. Throws QueryRejectedError.
 */
export function assertSeriesWithinCap(seriesCount: number, limits: Pick<QueryLimits, 'maxSeries'>): void {
  if (seriesCount <= limits.maxSeries) return;
  reject(
    `the answer would have ${seriesCount} series (one per currency, payment method and store seen in the range); at most ${limits.maxSeries} are allowed: ` +
      'ask with fewer groupBy dimensions (each store makes its own series) or for a shorter range',
  );
}
