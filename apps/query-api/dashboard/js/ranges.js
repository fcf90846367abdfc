// The date presets and the custom range, as whole buckets in the chosen zone,
// with the granularity the chart uses: hours for a day, days for up to a
// quarter, months for longer.
import { addDays, addMonths, dateOf, daysBetween, HOUR_MS, yearEarlier, zonedInstant } from './zoned-time.js';

export const PRESETS = [
  { id: 'today', label: 'Today' },
  { id: 'yesterday', label: 'Yesterday' },
  { id: 'last-7-days', label: 'Last 7 days' },
  { id: 'last-30-days', label: 'Last 30 days' },
  { id: 'last-90-days', label: 'Last 90 days' },
  { id: 'this-month', label: 'This month' },
  { id: 'last-12-months', label: 'Last 12 months' },
  { id: 'custom', label: 'Custom range' },
];

/** Custom ranges up to 2 days are shown by hour, up to 92 by day, longer ones by whole months. */
const HOURLY_DAYS = 2;
const DAILY_DAYS = 92;
/** The API's longest range with MONTH buckets (QUERY_MAX_RANGE_DAYS), so the page never asks for more than it allows anyone. */
const MAX_RANGE_DAYS = 400;

function byDays(first, last, granularity, zone) {
  return { granularity, first, last, from: zonedInstant(first, zone), to: zonedInstant(addDays(last, 1), zone), wholeMonths: false };
}

function byMonths(firstMonth, lastMonth, zone) {
  const next = addMonths(lastMonth, 1);
  return { granularity: 'MONTH', first: firstMonth, last: addDays(next, -1), from: zonedInstant(firstMonth, zone), to: zonedInstant(next, zone), wholeMonths: true };
}

/**
 * A range { granularity, first, last (inclusive dates), from, to (instants, ms) }. "Last N days" ends
 * today, included; "this month" is the month so far.
 */
export function presetRange(id, zone, now = Date.now(), custom = undefined) {
  const today = dateOf(now, zone);
  switch (id) {
    case 'today': return byDays(today, today, 'HOUR', zone);
    case 'yesterday': return byDays(addDays(today, -1), addDays(today, -1), 'HOUR', zone);
    case 'last-7-days': return byDays(addDays(today, -6), today, 'DAY', zone);
    case 'last-30-days': return byDays(addDays(today, -29), today, 'DAY', zone);
    case 'last-90-days': return byDays(addDays(today, -89), today, 'DAY', zone);
    case 'this-month': return byDays({ ...today, day: 1 }, today, 'DAY', zone);
    case 'last-12-months': return byMonths(addMonths(today, -11), addMonths(today, 0), zone);
    case 'custom': return customRange(custom.first, custom.last, zone);
    default: throw new RangeError(`unknown preset ${id}`);
  }
}

/** From one date to another, both included; longer than 92 days it widens to whole months, and says so. */
export function customRange(first, last, zone) {
  const days = daysBetween(first, last) + 1;
  if (days < 1) throw new RangeError('the range ends before it starts');
  if (days <= HOURLY_DAYS) return byDays(first, last, 'HOUR', zone);
  if (days <= DAILY_DAYS) return byDays(first, last, 'DAY', zone);
  const range = byMonths({ ...first, day: 1 }, { ...last, day: 1 }, zone);
  if (range.to - range.from > MAX_RANGE_DAYS * 24 * HOUR_MS) throw new RangeError('a range is at most 13 whole months');
  return range;
}

function monthsIn(range) {
  return (range.last.year - range.first.year) * 12 + range.last.month - range.first.month + 1;
}

/**
 * The range the cards compare with, bucket for bucket as the API's compareTo:
 * PREVIOUS_PERIOD, as many buckets just before; PREVIOUS_YEAR, the same local
 * buckets a year earlier (29 February as the 28th).
 */
export function comparisonRange(range, comparison, zone) {
  const { granularity, first, last } = range;
  if (comparison === 'PREVIOUS_PERIOD') {
    if (granularity === 'HOUR') return { from: range.from - Math.round((range.to - range.from) / HOUR_MS) * HOUR_MS, to: range.from };
    if (granularity === 'DAY') return { from: zonedInstant(addDays(first, -(daysBetween(first, last) + 1)), zone), to: range.from };
    return { from: zonedInstant(addMonths(first, -monthsIn(range)), zone), to: range.from };
  }
  if (granularity === 'MONTH') return { from: zonedInstant(yearEarlier(first), zone), to: zonedInstant(addMonths(yearEarlier({ ...last, day: 1 }), 1), zone) };
  return { from: zonedInstant(yearEarlier(first), zone), to: zonedInstant(addDays(yearEarlier(last), 1), zone) };
}
