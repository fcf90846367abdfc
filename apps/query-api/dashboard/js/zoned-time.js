// Calendar arithmetic in an IANA time zone with Intl only: the page asks for
// whole local days, hours or months, as the API's buckets are.

const HOUR_MS = 3_600_000;
const formatters = new Map();

function wallClockFormatter(zone) {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** The wall clock in `zone` at instant `t` (ms): { year, month (1-12), day, hour, minute, second }. */
export function wallClock(t, zone) {
  const parts = {};
  for (const { type, value } of wallClockFormatter(zone).formatToParts(new Date(t))) {
    if (type !== 'literal') parts[type] = Number(value);
  }
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute, second: parts.second };
}

/** How far `zone`'s wall clock is ahead of UTC at instant `t`, in ms. */
export function offsetAt(t, zone) {
  const w = wallClock(t, zone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(t / 1000) * 1000;
}

/**
 * The first instant at which `zone`'s wall clock shows the date at the hour.
 * When that hour does not exist (a DST gap; a few zones skip midnight), the
 * same wall time read with the offset before the gap: an instant just past
 * the gap, inside the same day (the start of the day itself when midnight is
 * skipped), which is what the API's buckets need.
 */
export function zonedInstant(date, zone, hour = 0) {
  const local = Date.UTC(date.year, date.month - 1, date.day, hour);
  const near = local - offsetAt(local - offsetAt(local, zone), zone);
  // The offsets in force on either side of `near` give every reading of the wall time.
  const candidates = [...new Set([offsetAt(near - 6 * HOUR_MS, zone), offsetAt(near + 6 * HOUR_MS, zone)])].map((o) => local - o).sort((a, b) => a - b);
  const shows = (t) => {
    const w = wallClock(t, zone);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour);
  };
  const exact = candidates.find((t) => shows(t) === local);
  return exact ?? candidates.find((t) => shows(t) > local) ?? near;
}

/** A calendar date { year, month, day }, n days on (Date.UTC normalises overflowing days). */
export function addDays(date, n) {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + n));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The first of the month n months on from the date's month. */
export function addMonths(date, n) {
  const d = new Date(Date.UTC(date.year, date.month - 1 + n, 1));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: 1 };
}

/** The same date a year earlier, 29 February becoming the 28th (as PostgreSQL's interval arithmetic does). */
export function yearEarlier(date) {
  const last = new Date(Date.UTC(date.year - 1, date.month, 0)).getUTCDate();
  return { year: date.year - 1, month: date.month, day: Math.min(date.day, last) };
}

export function dateOf(t, zone) {
  const w = wallClock(t, zone);
  return { year: w.year, month: w.month, day: w.day };
}

/** Whole days from one date to another. */
export function daysBetween(a, b) {
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000);
}

export function isoDate(date) {
  return `${String(date.year).padStart(4, '0')}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

export function parseIsoDate(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : null;
}

/** An instant as local ISO 8601 with its offset in `zone`: 2026-11-03T00:00:00+09:00. */
export function localIso(t, zone) {
  const w = wallClock(t, zone);
  const offset = Math.round(offsetAt(t, zone) / 60_000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const pad = (n) => String(n).padStart(2, '0');
  return `${isoDate(w)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export { HOUR_MS };
