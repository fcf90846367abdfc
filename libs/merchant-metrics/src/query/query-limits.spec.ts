import { describe, expect, it } from 'vitest';
import { QueryRejectedError, type Granularity, type MetricsQuery } from './metrics-query.js';
import { assertSeriesWithinCap, DEFAULT_QUERY_LIMITS, queryLimits, validateQuery } from './query-limits.js';

const DAY = 86_400_000;
const FROM = Date.UTC(2020, 0, 1);
const query = (granularity: Granularity, days: number): MetricsQuery => ({
  merchantId: 'm-1',
  from: new Date(FROM),
  to: new Date(FROM + days * DAY),
  granularity,
  timeZone: 'Europe/Paris',
  groupBy: [],
});
const refusal = (run: () => void): string | undefined => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(QueryRejectedError);
    return (error as Error).message;
  }
  return undefined;
};

describe('range limits per granularity', () => {
  it.each<[Granularity, number]>([
    ['HOUR', 31],
    ['DAY', 400],
    ['WEEK', 400],
    ['MONTH', 400],
    ['QUARTER', 1830],
    ['YEAR', 3660],
  ])('%s: %i days by default, not a second more', (granularity, days) => {
    expect(refusal(() => validateQuery(query(granularity, days)))).toBeUndefined();
    const tooLong = { ...query(granularity, days), to: new Date(FROM + days * DAY + 1000) };
    expect(refusal(() => validateQuery(tooLong))).toBe(`the range spans ${days.toFixed(1)} days; at most ${days} days are allowed with ${granularity} buckets`);
  });

  it('one number bounds DAY, WEEK and MONTH, HOUR only below 31 days, QUARTER and YEAR only above their defaults', () => {
    expect(queryLimits({ maxRangeDays: 90 }).maxRangeDays).toEqual({ HOUR: 31, DAY: 90, WEEK: 90, MONTH: 90, QUARTER: 1830, YEAR: 3660 });
    expect(queryLimits({ maxRangeDays: 7 }).maxRangeDays).toEqual({ HOUR: 7, DAY: 7, WEEK: 7, MONTH: 7, QUARTER: 1830, YEAR: 3660 });
    expect(queryLimits({ maxRangeDays: 3000 }).maxRangeDays).toEqual({ HOUR: 31, DAY: 3000, WEEK: 3000, MONTH: 3000, QUARTER: 3000, YEAR: 3660 });
  });

  it('per-granularity limits replace only the defaults they name', () => {
    expect(queryLimits({ maxRangeDays: { QUARTER: 731, YEAR: undefined } }).maxRangeDays).toEqual({ HOUR: 31, DAY: 400, WEEK: 400, MONTH: 400, QUARTER: 731, YEAR: 3660 });
    expect(refusal(() => validateQuery(query('QUARTER', 732), { maxRangeDays: { QUARTER: 731 } }))).toBe(
      'the range spans 732.0 days; at most 731 days are allowed with QUARTER buckets',
    );
  });

  it('completes partial limits with the defaults, the series cap included', () => {
    expect(queryLimits({ maxBuckets: 10, maxSeries: 5 })).toEqual({ ...DEFAULT_QUERY_LIMITS, maxBuckets: 10, maxSeries: 5 });
    expect(DEFAULT_QUERY_LIMITS.maxSeries).toBe(1000);
  });

  it('knows the six granularities only', () => {
    expect(refusal(() => validateQuery(query('DECADE' as Granularity, 10)))).toBe('unknown granularity "DECADE"');
  });
});

describe('assertSeriesWithinCap', () => {
  it('allows up to maxSeries series', () => {
    expect(() => assertSeriesWithinCap(0, DEFAULT_QUERY_LIMITS)).not.toThrow();
    expect(() => assertSeriesWithinCap(1000, DEFAULT_QUERY_LIMITS)).not.toThrow();
    expect(() => assertSeriesWithinCap(3, { maxSeries: 3 })).not.toThrow();
  });

  it('refuses one more with QueryRejectedError, naming the count, the cap and how to narrow the question', () => {
    expect(refusal(() => assertSeriesWithinCap(1001, DEFAULT_QUERY_LIMITS))).toBe(
      'the answer would have 1001 series (one per currency, payment method and store seen in the range); at most 1000 are allowed: ' +
        'ask with fewer groupBy dimensions (each store makes its own series) or for a shorter range',
    );
    expect(refusal(() => assertSeriesWithinCap(4, queryLimits({ maxSeries: 3 })))).toContain('at most 3 are allowed');
  });
});
