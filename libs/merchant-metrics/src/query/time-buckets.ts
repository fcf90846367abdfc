import type { Comparison, Granularity } from './metrics-query.js';
import { civilToMs, zoneOffsets, type ZoneOffsets } from './zone-offsets.js';

/**
 * Calendar buckets in an IANA zone with PostgreSQL's semantics, so that the
 * buckets computed here are exactly those of `date_trunc(unit, ts, zone)` and
 * `ts + interval in zone` (what 4-argument generate_series steps with).
 * Instants are milliseconds since the epoch.
 */
export const QUARTER_HOUR_MS = 900_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The units addInterval steps by: every granularity (PREVIOUS_YEAR steps by YEAR whatever the granularity). */
export type IntervalUnit = Granularity;

/** Months in one step of the calendar units (PostgreSQL adds '3 months' for a quarter). */
const MONTHS = { MONTH: 1, QUARTER: 3, YEAR: 12 } as const;

/**
 * The instant a local wall-clock time denotes, as PostgreSQL's
 * DetermineTimeZoneOffset decides it: in a spring-forward gap it reads the time
 * with the offset from before the change, in a fall-back overlap with the
 * offset from after it. Both choices are the later of the two readings.
 * `local` is the wall-clock time written as if it were UTC.
 */
export function localToInstant(local: number, zone: ZoneOffsets): number {
  const before = zone.offsetAt(local - DAY_MS);
  const after = zone.offsetAt(local + DAY_MS);
  if (before === after) return local - before;
  const withBefore = local - before;
  const withAfter = local - after;
  // Outside the gap or overlap both readings agree on the side of the transition.
  const beforeReadingIsBefore = zone.offsetAt(withBefore) === before;
  const afterReadingIsBefore = zone.offsetAt(withAfter) === before;
  if (beforeReadingIsBefore && afterReadingIsBefore) return withBefore;
  if (!beforeReadingIsBefore && !afterReadingIsBefore) return withAfter;
  return Math.max(withBefore, withAfter);
}

function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** date_trunc(unit, t, zone); weeks start on Monday, quarters in January, April, July and October. */
export function floorToBucket(t: number, unit: Granularity, zone: string): number {
  const offsets = zoneOffsets(zone);
  const offset = offsets.offsetAt(t);
  const local = t + offset;
  switch (unit) {
    case 'HOUR':
      // Below a day PostgreSQL keeps the offset of `t` itself rather than re-deciding it.
      return floorDiv(local, HOUR_MS) * HOUR_MS - offset;
    case 'DAY':
      return localToInstant(floorDiv(local, DAY_MS) * DAY_MS, offsets);
    case 'WEEK': {
      const day = floorDiv(local, DAY_MS);
      // Day 0 (1970-01-01) was a Thursday: (day + 3) mod 7 counts days since Monday.
      const sinceMonday = (((day + 3) % 7) + 7) % 7;
      return localToInstant((day - sinceMonday) * DAY_MS, offsets);
    }
    case 'MONTH':
    case 'QUARTER':
    case 'YEAR': {
      // Like date_trunc: the local date's first day of the month, quarter or year at 00:00, read as DAY is.
      const date = new Date(local);
      const month = unit === 'YEAR' ? 0 : unit === 'QUARTER' ? date.getUTCMonth() - (date.getUTCMonth() % 3) : date.getUTCMonth();
      return localToInstant(civilToMs(date.getUTCFullYear(), month + 1, 1), offsets);
    }
  }
}

/** `t + n * interval '1 unit'` evaluated with `zone` as the time zone (date_add(t, interval, zone)). */
export function addInterval(t: number, unit: IntervalUnit, n: number, zone: string): number {
  if (unit === 'HOUR') return t + n * HOUR_MS; // a pure time interval adds absolute time
  const offsets = zoneOffsets(zone);
  const local = t + offsets.offsetAt(t);
  const timeOfDay = local - floorDiv(local, DAY_MS) * DAY_MS;
  if (unit === 'DAY' || unit === 'WEEK') {
    return localToInstant(local + n * (unit === 'WEEK' ? 7 : 1) * DAY_MS, offsets);
  }
  const date = new Date(local);
  const months = date.getUTCFullYear() * 12 + date.getUTCMonth() + n * MONTHS[unit];
  const year = floorDiv(months, 12);
  const month = months - year * 12 + 1;
  // Like PostgreSQL, clamp the day to the target month's length (Jan 31 + 1 month = Feb 28/29).
  const day = Math.min(date.getUTCDate(), new Date(civilToMs(year, month + 1, 0)).getUTCDate());
  return localToInstant(civilToMs(year, month, day) + timeOfDay, offsets);
}

/** The start of the bucket after the one starting at `start`. */
export function nextBucket(start: number, unit: Granularity, zone: string): number {
  const next = floorToBucket(addInterval(start, unit, 1, zone), unit, zone);
  if (next <= start) throw new Error(`bucket arithmetic stalled at ${new Date(start).toISOString()} in ${zone}`);
  return next;
}

/**
 * Bucket boundaries covering [from, to): every bucket start from floor(from)
 * to the last start before `to`, then the end of that last bucket. Each next
 * start is floor(start + 1 unit) rather than generate_series' start + n units,
 * which drifts off midnight after a day that began at 01:00 (a DST change at
 * midnight, as in America/Santiago); elsewhere the two agree.
 */
export function bucketBoundaries(from: number, to: number, unit: Granularity, zone: string): number[] {
  const boundaries = [floorToBucket(from, unit, zone)];
  while (boundaries[boundaries.length - 1] < to) {
    boundaries.push(nextBucket(boundaries[boundaries.length - 1], unit, zone));
  }
  return boundaries;
}

export interface ComparisonBuckets {
  /** For each bucket start of the range, the start of the bucket it is compared with. */
  starts: number[];
  /** Every boundary of the buckets between the first comparison start and the end of the last. */
  boundaries: number[];
}

/**
 * PREVIOUS_PERIOD: the same number of buckets immediately before the range.
 * PREVIOUS_YEAR: the bucket holding the same local wall-clock start a year
 * earlier (29 February compares with 28 February; a week with the Monday-based
 * week holding its Monday's date a year earlier; a quarter or a year with the
 * same quarter of, or the whole, previous year).
 */
export function comparisonBuckets(starts: number[], unit: Granularity, zone: string, comparison: Comparison): ComparisonBuckets {
  if (starts.length === 0) return { starts: [], boundaries: [] };
  if (comparison === 'PREVIOUS_PERIOD') {
    const first = floorToBucket(addInterval(starts[0], unit, -starts.length, zone), unit, zone);
    const boundaries = [first];
    while (boundaries.length <= starts.length) boundaries.push(nextBucket(boundaries[boundaries.length - 1], unit, zone));
    return { starts: boundaries.slice(0, -1), boundaries };
  }
  const shifted = starts.map((start) => floorToBucket(addInterval(start, 'YEAR', -1, zone), unit, zone));
  const end = nextBucket(shifted[shifted.length - 1], unit, zone);
  return { starts: shifted, boundaries: bucketBoundaries(shifted[0], end, unit, zone) };
}
