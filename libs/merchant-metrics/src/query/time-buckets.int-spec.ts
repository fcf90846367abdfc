import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { testDatabase, type TestDatabase } from '@app/testing';
import { planBuckets } from './bucket-plan.js';
import type { Granularity } from './metrics-query.js';
import { addInterval, bucketBoundaries, DAY_MS, floorToBucket, HOUR_MS, QUARTER_HOUR_MS, type IntervalUnit } from './time-buckets.js';
import { zoneOffsets } from './zone-offsets.js';

// DST at 00:00 (Santiago, Havana, Asuncion, Beirut...), 30-minute DST (Lord_Howe),
// half and quarter hours (Kolkata, St_Johns, Kathmandu, Chatham), a zone that skipped
// a whole day (Apia), negative DST (Casablanca), two-hour DST (Troll).
const ZONES = [
  'America/New_York', 'America/Los_Angeles', 'America/St_Johns', 'America/Santiago', 'America/Havana', 'America/Asuncion',
  'America/Sao_Paulo', 'Europe/London', 'Europe/Berlin', 'Europe/Moscow', 'Africa/Casablanca', 'Africa/Cairo', 'Asia/Tokyo',
  'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Tehran', 'Asia/Beirut', 'Asia/Gaza', 'Australia/Sydney', 'Australia/Adelaide',
  'Australia/Lord_Howe', 'Pacific/Chatham', 'Pacific/Apia', 'Pacific/Kiritimati', 'Antarctica/Troll', 'UTC', 'Etc/GMT+5',
];
// DST changes away from midnight, where 4-argument generate_series from a bucket start stays on bucket starts.
const GENERATE_SERIES_ZONES = ['America/New_York', 'America/St_Johns', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Sydney', 'Pacific/Chatham', 'UTC'];
const UNITS: Granularity[] = ['HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'];
/** Checked against every 15-minute row of their ranges; QUARTER and YEAR, whose ranges are long, against the first row of each bucket. */
const SAMPLED_UNITS: Granularity[] = ['HOUR', 'DAY', 'WEEK', 'MONTH'];
const INTERVALS: Record<Granularity, string> = { HOUR: '1 hour', DAY: '1 day', WEEK: '1 week', MONTH: '1 month', QUARTER: '3 months', YEAR: '1 year' };
const FROM = Date.UTC(2015, 0, 1);
const TO = Date.UTC(2031, 0, 1);
const NO_LIMITS = { maxBuckets: 1e6, maxRangeDays: { HOUR: 1e4, DAY: 1e4, WEEK: 1e4, MONTH: 1e4, QUARTER: 1e4, YEAR: 1e4 }, maxGroupBy: 2, maxSeries: 1e6 };

function transitions(zone: string): number[] {
  const offsets = zoneOffsets(zone);
  const found: number[] = [];
  for (let day = FROM; day < TO; day += DAY_MS) {
    if (offsets.offsetAt(day) !== offsets.offsetAt(day + DAY_MS)) found.push(day);
  }
  return found;
}

/**
 * Every 7.5 minutes for a day and a half around each transition and for 15
 * hours either side of each UTC quarter start (local midnights are at most 14
 * hours away from it), plus spread-out instants.
 */
function instantsAround(zone: string): number[] {
  const instants: number[] = [];
  for (const day of transitions(zone)) {
    for (let t = day - 26 * HOUR_MS; t < day + 50 * HOUR_MS; t += QUARTER_HOUR_MS / 2) instants.push(t);
  }
  for (let year = new Date(FROM).getUTCFullYear(); year < new Date(TO).getUTCFullYear(); year++) {
    for (const month of [0, 3, 6, 9]) {
      const start = Date.UTC(year, month, 1);
      for (let t = start - 15 * HOUR_MS; t < start + 15 * HOUR_MS; t += QUARTER_HOUR_MS / 2) instants.push(t);
    }
  }
  let seed = 12345;
  for (let i = 0; i < 300; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    instants.push(FROM + Math.floor((seed / 2 ** 31) * (TO - FROM) / 1000) * 1000);
  }
  return instants;
}

const iso = (t: number) => new Date(t).toISOString();

describe('time buckets agree with PostgreSQL', () => {
  let database: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it.each(ZONES)('date_trunc and timestamptz + interval in %s, 2015-2030, around every transition', async (zone) => {
    const instants = instantsAround(zone);
    const { rows } = await pool.query<Record<string, Date>>(
      `select t, date_trunc('hour', t, $2) as "HOUR", date_trunc('day', t, $2) as "DAY", date_trunc('week', t, $2) as "WEEK",
              date_trunc('month', t, $2) as "MONTH", date_trunc('quarter', t, $2) as "QUARTER", date_trunc('year', t, $2) as "YEAR",
              date_add(t, '1 day', $2) as "DAY+1", date_add(t, '-1 day', $2) as "DAY-1",
              date_add(t, '1 week', $2) as "WEEK+1", date_add(t, '-1 month', $2) as "MONTH-1", date_add(t, '1 month', $2) as "MONTH+1",
              date_add(t, '-3 months', $2) as "QUARTER-1", date_add(t, '3 months', $2) as "QUARTER+1",
              date_add(t, '-1 year', $2) as "YEAR-1", date_add(t, '1 year', $2) as "YEAR+1"
       from unnest($1::timestamptz[]) as t`,
      [instants.map(iso), zone],
    );
    const mismatches: string[] = [];
    for (const row of rows) {
      const t = row.t.getTime();
      const check = (name: string, actual: number) => {
        if (actual !== row[name].getTime()) mismatches.push(`${name} of ${iso(t)}: PostgreSQL ${iso(row[name].getTime())}, ours ${iso(actual)}`);
      };
      for (const unit of UNITS) check(unit, floorToBucket(t, unit, zone));
      const steps: Array<[IntervalUnit, number]> = [['DAY', 1], ['DAY', -1], ['WEEK', 1], ['MONTH', -1], ['MONTH', 1], ['QUARTER', -1], ['QUARTER', 1], ['YEAR', -1], ['YEAR', 1]];
      for (const [unit, n] of steps) {
        check(`${unit}${n > 0 ? '+' : '-'}1`, addInterval(t, unit, n, zone));
      }
    }
    expect(rows.length).toBe(instants.length);
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  /** Ranges of whole UTC days around the zone's first transitions of 2026 (or mid-2026 without DST). */
  function rangesFor(zone: string, unit: Granularity): Array<[number, number]> {
    const around = transitions(zone).filter((t) => t >= Date.UTC(2026, 0, 1)).slice(0, 2);
    const span = { HOUR: 3, DAY: 20, WEEK: 40, MONTH: 100, QUARTER: 100, YEAR: 200 }[unit] * DAY_MS;
    return (around.length > 0 ? around : [Date.UTC(2026, 5, 1)]).map((t) => [t - span, t + span]);
  }

  it('bucket lists are the distinct date_trunc values, and grouping a 15-minute row lands it in its date_trunc bucket', async () => {
    const mismatches: string[] = [];
    for (const zone of ZONES) {
      for (const unit of SAMPLED_UNITS) {
        for (const [from, to] of rangesFor(zone, unit)) {
          const { rows } = await pool.query<{ x: Date; label: Date }>(
            `select x, date_trunc($3, x, $4) as label from generate_series($1::timestamptz, $2::timestamptz, '15 minutes') as x order by x`,
            [iso(from), iso(to + 32 * DAY_MS), unit.toLowerCase(), zone],
          );
          const labels = [...new Set(rows.map((r) => r.label.getTime()))];
          const inRange = [...new Set(rows.filter((r) => r.x.getTime() < to).map((r) => r.label.getTime()))];
          const expected = [...inRange, labels[inRange.length]];
          const ours = bucketBoundaries(from, to, unit, zone);
          if (ours.join() !== expected.join()) mismatches.push(`${zone} ${unit} ${iso(from)}: ${ours.map(iso)} vs ${expected.map(iso)}`);

          const plan = planBuckets({ merchantId: 'm', from: new Date(from), to: new Date(to), granularity: unit, timeZone: zone, groupBy: [] }, NO_LIMITS);
          let k = 0;
          for (const row of rows.filter((r) => r.x.getTime() < to)) {
            while (plan.grid[k + 1] <= row.x.getTime()) k++;
            if (plan.gridStarts[k] !== row.label.getTime()) mismatches.push(`${zone} ${unit}: ${iso(row.x.getTime())} grouped into ${iso(plan.gridStarts[k])}`);
          }
        }
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  it('QUARTER and YEAR bucket lists are the distinct date_trunc values, and each bucket begins with its first 15-minute row', async () => {
    const mismatches: string[] = [];
    for (const zone of ZONES) {
      for (const unit of ['QUARTER', 'YEAR'] as const) {
        for (const [from, to] of rangesFor(zone, unit)) {
          // The labels of the 15-minute rows of [from, to) with the first row of each, then the label after the last.
          const { rows } = await pool.query<{ label: Date; first: Date | null }>(
            `with b as (select date_trunc($3, x, $4) as label, min(x) as first
                          from generate_series($1::timestamptz, $2::timestamptz - interval '15 minutes', '15 minutes') as x group by 1)
             select label, first from b
             union all select date_trunc($3, date_add(max(label), $5::interval, $4), $4), null from b
             order by label`,
            [iso(from), iso(to), unit.toLowerCase(), zone, INTERVALS[unit]],
          );
          const expected = rows.map((r) => r.label.getTime());
          const ours = bucketBoundaries(from, to, unit, zone);
          if (ours.join() !== expected.join()) mismatches.push(`${zone} ${unit} ${iso(from)}: ${ours.map(iso)} vs ${expected.map(iso)}`);

          const plan = planBuckets({ merchantId: 'm', from: new Date(from), to: new Date(to), granularity: unit, timeZone: zone, groupBy: [] }, NO_LIMITS);
          // The first bucket begins before `from`, where no row was generated; the label after the last has none.
          for (let k = 1; k < rows.length - 1; k++) {
            const first = rows[k].first!.getTime();
            if (plan.grid[k] !== first || plan.gridStarts[k] !== expected[k]) {
              mismatches.push(`${zone} ${unit}: the bucket labelled ${iso(expected[k])} begins at ${iso(first)}, planned ${iso(plan.grid[k])}`);
            }
          }
        }
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  it.each(GENERATE_SERIES_ZONES)('bucket lists equal 4-argument generate_series in %s', async (zone) => {
    for (const unit of UNITS) {
      for (const [from, to] of rangesFor(zone, unit)) {
        const { rows } = await pool.query<{ b: Date }>(
          `select b from generate_series(date_trunc($3, $1::timestamptz, $4), $2::timestamptz, $5::interval, $4) as b`,
          [iso(from), iso(to), unit.toLowerCase(), zone, INTERVALS[unit]],
        );
        const series = rows.map((r) => r.b.getTime());
        const ours = bucketBoundaries(from, to, unit, zone);
        // generate_series stops at `to`; ours ends with the end of the last bucket.
        expect(ours.slice(0, series.filter((b) => b < to).length).map(iso), `${zone} ${unit}`).toEqual(series.filter((b) => b < to).map(iso));
        expect(ours.length - 1, `${zone} ${unit}`).toBe(series.filter((b) => b < to).length);
      }
    }
  });
});
