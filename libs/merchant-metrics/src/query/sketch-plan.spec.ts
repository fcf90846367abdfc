import { describe, expect, it } from 'vitest';
import { planBuckets } from './bucket-plan.js';
import { DEFAULT_QUERY_LIMITS } from './query-limits.js';
import { planGrainSpans } from './sketch-plan.js';
import type { MetricsQuery } from './metrics-query.js';

const spans = (query: Omit<MetricsQuery, 'merchantId' | 'groupBy'>) =>
  planGrainSpans(planBuckets({ merchantId: 'm', groupBy: [], ...query }, DEFAULT_QUERY_LIMITS));
const iso = (list: Array<[number, number]>) => list.map(([a, b]) => `${new Date(a).toISOString()}..${new Date(b).toISOString()}`);

describe('planGrainSpans: the coarsest stored rows that tile each output bucket', () => {
  it('reads whole UTC days from the daily rows, in one span', () => {
    const s = spans({ from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-31T00:00:00Z'), granularity: 'DAY', timeZone: 'UTC' });
    expect(iso(s.daily)).toEqual(['2026-03-01T00:00:00.000Z..2026-03-31T00:00:00.000Z']);
    expect(s.hourly).toEqual([]);
    expect(s.quarter).toEqual([]);
  });

  it('reads Tokyo days (UTC 15:00 to 15:00) from hourly rows only: no UTC day lies inside one', () => {
    const s = spans({ from: new Date('2026-03-01T00:00:00+09:00'), to: new Date('2026-03-03T00:00:00+09:00'), granularity: 'DAY', timeZone: 'Asia/Tokyo' });
    expect(iso(s.hourly)).toEqual(['2026-02-28T15:00:00.000Z..2026-03-02T15:00:00.000Z']);
    expect(s.daily).toEqual([]);
    expect(s.quarter).toEqual([]);
  });

  it('reads a Tokyo month as hourly edges around whole UTC days', () => {
    const s = spans({ from: new Date('2026-03-01T00:00:00+09:00'), to: new Date('2026-04-01T00:00:00+09:00'), granularity: 'MONTH', timeZone: 'Asia/Tokyo' });
    expect(iso(s.hourly)).toEqual([
      '2026-02-28T15:00:00.000Z..2026-03-01T00:00:00.000Z',
      '2026-03-31T00:00:00.000Z..2026-03-31T15:00:00.000Z',
    ]);
    expect(iso(s.daily)).toEqual(['2026-03-01T00:00:00.000Z..2026-03-31T00:00:00.000Z']);
    expect(s.quarter).toEqual([]);
  });

  it('reads 15-minute rows only at the half-hour edges of Kolkata days (UTC 18:30)', () => {
    const s = spans({ from: new Date('2026-03-01T00:00:00+05:30'), to: new Date('2026-03-03T00:00:00+05:30'), granularity: 'DAY', timeZone: 'Asia/Kolkata' });
    expect(iso(s.quarter)).toEqual([
      '2026-02-28T18:30:00.000Z..2026-02-28T19:00:00.000Z',
      // The end of one day and the start of the next are adjacent: one span.
      '2026-03-01T18:00:00.000Z..2026-03-01T19:00:00.000Z',
      '2026-03-02T18:00:00.000Z..2026-03-02T18:30:00.000Z',
    ]);
    expect(iso(s.hourly)).toEqual([
      '2026-02-28T19:00:00.000Z..2026-03-01T18:00:00.000Z',
      '2026-03-01T19:00:00.000Z..2026-03-02T18:00:00.000Z',
    ]);
    expect(s.daily).toEqual([]);
  });

  it('skips the time between a range and its comparison', () => {
    const s = spans({
      from: new Date('2026-03-10T00:00:00Z'), to: new Date('2026-03-12T00:00:00Z'), granularity: 'DAY', timeZone: 'UTC', compareTo: 'PREVIOUS_YEAR',
    });
    expect(iso(s.daily)).toEqual([
      '2025-03-10T00:00:00.000Z..2025-03-12T00:00:00.000Z',
      '2026-03-10T00:00:00.000Z..2026-03-12T00:00:00.000Z',
    ]);
  });

  it('tiles every bucket exactly once, across a DST change', () => {
    const query = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-04-15T00:00:00Z'), granularity: 'WEEK' as const, timeZone: 'America/New_York' };
    const plan = planBuckets({ merchantId: 'm', groupBy: [], ...query }, DEFAULT_QUERY_LIMITS);
    const s = planGrainSpans(plan);
    const covered = [...s.daily, ...s.hourly, ...s.quarter].sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < covered.length; k++) expect(covered[k][0]).toBe(covered[k - 1][1]);
    expect(covered[0][0]).toBe(plan.range[0]);
    expect(covered[covered.length - 1][1]).toBe(plan.range[1]);
    for (const [a, b] of s.daily) expect([a % 86_400_000, b % 86_400_000]).toEqual([0, 0]);
    for (const [a, b] of s.hourly) expect([a % 3_600_000, b % 3_600_000]).toEqual([0, 0]);
  });
});
