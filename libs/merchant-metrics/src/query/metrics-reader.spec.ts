import { describe, expect, it } from 'vitest';
import type { SqlClient } from '@app/projections';
import { QueryRejectedError, type MetricsQuery } from './metrics-query.js';
import { readMetrics } from './metrics-reader.js';
import { queryLimits } from './query-limits.js';

const untouchable: SqlClient = {
  query: () => {
    throw new Error('a rejected query must not reach the database');
  },
};

const base: MetricsQuery = {
  merchantId: 'm-1',
  from: new Date('2026-03-01T00:00:00Z'),
  to: new Date('2026-03-08T00:00:00Z'),
  granularity: 'DAY',
  timeZone: 'America/New_York',
  groupBy: [],
};

describe('readMetrics rejects before touching the database', () => {
  it.each<[string, Partial<MetricsQuery>, string]>([
    ['an unknown zone', { timeZone: 'Mars/Olympus' }, 'unknown time zone "Mars/Olympus"'],
    ['an abbreviation', { timeZone: 'CET' }, 'unknown time zone "CET"'],
    ['to equal to from', { to: base.from }, 'must be after from'],
    ['to before from', { to: new Date('2026-02-01T00:00:00Z') }, 'must be after from'],
    ['an invalid date', { from: new Date('nope') }, 'from is not a valid instant'],
    ['a DAY range over 400 days', { to: new Date('2027-04-06T00:00:01Z') }, 'at most 400 days are allowed with DAY buckets'],
    ['an HOUR range over 31 days', { granularity: 'HOUR', to: new Date('2026-04-01T00:00:01Z') }, 'at most 31 days are allowed with HOUR buckets'],
    ['three groupBy dimensions', { groupBy: ['STORE', 'PAYMENT_METHOD', 'STORE'] }, 'at most 2 groupBy dimensions'],
    ['a duplicated dimension', { groupBy: ['STORE', 'STORE'] }, 'groupBy lists a dimension twice'],
    ['an unknown granularity', { granularity: 'DECADE' as never }, 'unknown granularity "DECADE"'],
    ['an empty merchant', { merchantId: '' }, 'merchantId is required'],
  ])('%s', async (_, change, message) => {
    const error = await readMetrics(untouchable, 'rm_merchant_metrics_v1', { ...base, ...change }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryRejectedError);
    expect((error as Error).message).toContain(message);
  });

  it('too many buckets, with a configured limit', async () => {
    const limits = { maxBuckets: 6 };
    await expect(readMetrics(untouchable, 'rm_merchant_metrics_v1', base, limits)).rejects.toThrow(
      new QueryRejectedError('the range has 8 DAY buckets; at most 6 are allowed'),
    );
  });

  it('accepts exactly 400 days', async () => {
    const answered = readMetrics(untouchable, 'rm_merchant_metrics_v1', { ...base, to: new Date('2027-04-05T00:00:00Z') });
    await expect(answered).rejects.toThrow('a rejected query must not reach the database');
  });
});

