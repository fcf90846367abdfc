import { describe, expect, it } from 'vitest';
import { planBuckets } from './bucket-plan.js';
import { QueryRejectedError, type Comparison, type Granularity } from './metrics-query.js';
import { DEFAULT_QUERY_LIMITS } from './query-limits.js';

const isos = (instants: number[]) => instants.map((x) => new Date(x).toISOString().replace('.000Z', 'Z'));

function plan(timeZone: string, granularity: Granularity, from: string, to: string, compareTo?: Comparison) {
  return planBuckets({ merchantId: 'm', from: new Date(from), to: new Date(to), granularity, timeZone, groupBy: [], compareTo }, DEFAULT_QUERY_LIMITS);
}

describe('planBuckets: the source table is the coarsest grid every boundary lies on', () => {
  it.each([
    ['UTC', 'DAY', 'metrics_daily'],
    ['UTC', 'WEEK', 'metrics_daily'],
    ['UTC', 'HOUR', 'metrics_hourly'],
    ['Asia/Tokyo', 'DAY', 'metrics_hourly'],
    ['Asia/Tokyo', 'MONTH', 'metrics_hourly'],
    ['America/New_York', 'HOUR', 'metrics_hourly'],
    ['Asia/Kolkata', 'DAY', 'metrics_15m'],
    ['Asia/Kolkata', 'HOUR', 'metrics_15m'],
    ['Asia/Kathmandu', 'DAY', 'metrics_15m'],
  ] as const)('%s %s reads %s', (zone, unit, source) => {
    expect(plan(zone, unit, '2026-01-05T00:00Z', '2026-01-20T00:00Z').source).toBe(source);
  });

  it('counts the comparison boundaries too: London days after the change back to GMT, compared with days in BST', () => {
    // 2026-10-25 01:00Z London returns to GMT: 26-28 October start at UTC midnight, 23-25 October (BST) do not.
    expect(plan('Europe/London', 'DAY', '2026-10-26T00:00Z', '2026-10-29T00:00Z').source).toBe('metrics_daily');
    const compared = plan('Europe/London', 'DAY', '2026-10-26T00:00Z', '2026-10-29T00:00Z', 'PREVIOUS_PERIOD');
    expect(compared.source).toBe('metrics_hourly');
    expect(isos(compared.comparisonStarts!)).toEqual(['2026-10-22T23:00:00Z', '2026-10-23T23:00:00Z', '2026-10-24T23:00:00Z']);
    // Adjacent to the range: one span to read.
    expect(compared.ranges.map(isos)).toEqual([['2026-10-22T23:00:00Z', '2026-10-29T00:00:00Z']]);
  });

  it('reads two spans for PREVIOUS_YEAR', () => {
    const compared = plan('UTC', 'DAY', '2026-03-01T00:00Z', '2026-03-03T00:00Z', 'PREVIOUS_YEAR');
    expect(compared.ranges.map(isos)).toEqual([
      ['2025-03-01T00:00:00Z', '2025-03-03T00:00:00Z'],
      ['2026-03-01T00:00:00Z', '2026-03-03T00:00:00Z'],
    ]);
    expect(isos([...compared.range])).toEqual(['2026-03-01T00:00:00Z', '2026-03-03T00:00:00Z']);
  });
});

describe('planBuckets: buckets whose date_trunc label is not their first instant', () => {
  it('America/Havana, 1 November 2026 (01:00 CDT back to 00:00 CST): the day is labelled by its second midnight', () => {
    const p = plan('America/Havana', 'DAY', '2026-10-31T12:00Z', '2026-11-01T12:00Z');
    expect(isos(p.starts)).toEqual(['2026-10-31T04:00:00Z', '2026-11-01T05:00:00Z']);
    expect(isos(p.grid)).toEqual(['2026-10-31T04:00:00Z', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z']);
    expect(isos(p.gridStarts)).toEqual(['2026-10-31T04:00:00Z', '2026-11-01T05:00:00Z', '2026-11-02T05:00:00Z']);
  });

  it('Australia/Lord_Howe, 4 October 2026 (02:00 +10:30 to 02:30 +11): the half hour of 02:xx is labelled 02:00 +11', () => {
    const p = plan('Australia/Lord_Howe', 'HOUR', '2026-10-03T14:30Z', '2026-10-03T16:30Z');
    expect(isos(p.starts)).toEqual(['2026-10-03T14:30:00Z', '2026-10-03T15:00:00Z', '2026-10-03T16:00:00Z']);
    expect(isos(p.grid)).toEqual(['2026-10-03T14:30:00Z', '2026-10-03T15:30:00Z', '2026-10-03T16:00:00Z', '2026-10-03T17:00:00Z']);
    expect(p.source).toBe('metrics_15m');
  });
});

describe('planBuckets: limits', () => {
  it('refuses more buckets than allowed', () => {
    const query = { merchantId: 'm', from: new Date('2026-01-01T00:00Z'), to: new Date('2026-01-02T00:30Z'), granularity: 'HOUR' as const, timeZone: 'UTC', groupBy: [] };
    expect(() => planBuckets(query, { ...DEFAULT_QUERY_LIMITS, maxBuckets: 24 })).toThrow(
      new QueryRejectedError('the range has 25 HOUR buckets; at most 24 are allowed'),
    );
    expect(planBuckets(query, { ...DEFAULT_QUERY_LIMITS, maxBuckets: 25 }).starts).toHaveLength(25);
  });
});
