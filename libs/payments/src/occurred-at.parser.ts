/** A valid RFC 3339 instant, reduced to UTC. */
export interface ParsedInstant {
  /** Whole seconds since the Unix epoch. */
  epochSeconds: number;
  /** 0 to 999 999 999. */
  nanos: number;
  /** The fraction digits as written, trailing zeros trimmed ('' for none). */
  fraction: string;
  /** True when the offset was Z, +00:00 or -00:00: the text's own date and time are already UTC. */
  utc: boolean;
}

export type InstantProblem = 'format' | 'calendar';

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const ZERO = 48;

/** Two ASCII digits at `at` as a number, or -1. */
function twoDigits(text: string, at: number): number {
  const a = text.charCodeAt(at) - ZERO;
  const b = text.charCodeAt(at + 1) - ZERO;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1]!;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/**
 * Parses `YYYY-MM-DDTHH:MM:SS[.fraction of 1 to 9 digits](Z|±HH:MM)` by hand: this runs for
 * every event, and a regex with captures allocates an array per call.
 */
export function parseRfc3339(text: string): ParsedInstant | InstantProblem {
  const length = text.length;
  if (length < 20 || text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':') {
    return 'format';
  }
  const century = twoDigits(text, 0);
  const yy = twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  if ((century | yy | month | day | hour | minute | second) < 0) return 'format';

  let at = 19;
  let fraction = '';
  let nanos = 0;
  if (text[at] === '.') {
    const start = ++at;
    while (at < length && at - start < 10) {
      const c = text.charCodeAt(at) - ZERO;
      if (c < 0 || c > 9) break;
      at++;
    }
    const digits = at - start;
    if (digits < 1 || digits > 9) return 'format';
    let end = at;
    while (end > start && text.charCodeAt(end - 1) === ZERO) end--;
    fraction = text.slice(start, end);
    nanos = fraction === '' ? 0 : Number(fraction) * 10 ** (9 - fraction.length);
  }

  let offsetSeconds = 0;
  let utc = true;
  const sign = text[at];
  if (sign === 'Z') {
    if (at + 1 !== length) return 'format';
  } else if (sign === '+' || sign === '-') {
    if (at + 6 !== length || text[at + 3] !== ':') return 'format';
    const offsetHours = twoDigits(text, at + 1);
    const offsetMinutes = twoDigits(text, at + 4);
    if ((offsetHours | offsetMinutes) < 0) return 'format';
    if (offsetHours > 23 || offsetMinutes > 59) return 'calendar';
    offsetSeconds = (sign === '+' ? 1 : -1) * (offsetHours * 3600 + offsetMinutes * 60);
    utc = offsetSeconds === 0;
  } else {
    return 'format';
  }

  const year = century * 100 + yy;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return 'calendar';
  }
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear would fix that, but such years fail the 2000 floor either way.
  const epochSeconds = Date.UTC(year, month - 1, day, hour, minute, second) / 1000 - offsetSeconds;
  return { epochSeconds, nanos, fraction, utc };
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

/**
 * `YYYY-MM-DDTHH:MM:SS` in UTC, by Howard Hinnant's civil_from_days: Date#toISOString costs as
 * much as the rest of an event's validation. Years outside 0000-9999 come out in a form that is
 * not RFC 3339 (and fails its parser), as they should.
 */
export function utcDateTime(epochSeconds: number): string {
  const days = Math.floor(epochSeconds / 86_400);
  const secondOfDay = epochSeconds - days * 86_400;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay % 3600) / 60);
  const yyyy = year >= 0 && year < 1000 ? String(year).padStart(4, '0') : String(year);
  return (
    `${yyyy}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T` +
    `${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[secondOfDay % 60]}`
  );
}

/** `YYYY-MM-DDTHH:MM:SS[.fraction]Z`; `text` is the string the instant was parsed from (year 2000 or later). */
export function canonicalInstant(text: string, instant: ParsedInstant): string {
  const dateTime = instant.utc ? text.slice(0, 19) : utcDateTime(instant.epochSeconds);
  return instant.fraction === '' ? `${dateTime}Z` : `${dateTime}.${instant.fraction}Z`;
}

/** Microseconds since the epoch, truncated. */
export function instantMicros(instant: ParsedInstant): bigint {
  const micros = instant.epochSeconds * 1_000_000 + Math.floor(instant.nanos / 1000);
  if (Number.isSafeInteger(micros)) return BigInt(micros);
  return BigInt(instant.epochSeconds) * 1_000_000n + BigInt(Math.floor(instant.nanos / 1000));
}
