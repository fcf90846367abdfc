import { describe, expect, it } from 'vitest';
// @ts-expect-error -- the dashboard's browser modules are plain JavaScript, without types
import { comparisonRange, customRange, presetRange } from '../../dashboard/js/ranges.js';
// @ts-expect-error -- as above
import { localIso, zonedInstant } from '../../dashboard/js/zoned-time.js';

const at = (iso: string) => Date.parse(iso);
const date = (text: string) => {
  const [year, month, day] = text.split('-').map(Number);
  return { year, month, day };
};

describe("the dashboard's calendar arithmetic (in the browser, with Intl only)", () => {
  it('finds local midnight across offsets and DST changes', () => {
    expect(zonedInstant(date('2026-11-20'), 'Asia/Tokyo')).toBe(at('2026-11-19T15:00:00Z'));
    expect(zonedInstant(date('2026-11-01'), 'America/New_York')).toBe(at('2026-11-01T04:00:00Z')); // EDT until 02:00 that day
    expect(zonedInstant(date('2026-11-02'), 'America/New_York')).toBe(at('2026-11-02T05:00:00Z'));
    expect(zonedInstant(date('2026-03-08'), 'Asia/Kolkata')).toBe(at('2026-03-07T18:30:00Z'));
  });

  it('takes the instant the clocks jump to when the hour does not exist', () => {
    // Santiago skips midnight on 6 September 2026 (00:00 -04 becomes 01:00 -03): the day starts at 04:00Z.
    expect(zonedInstant(date('2026-09-06'), 'America/Santiago')).toBe(at('2026-09-06T04:00:00Z'));
    // New York skips 02:00-03:00 on 8 March 2026.
    expect(zonedInstant(date('2026-03-08'), 'America/New_York', 2)).toBe(at('2026-03-08T07:00:00Z'));
  });

  it('writes local ISO times with their offset', () => {
    expect(localIso(at('2026-01-01T05:00:00Z'), 'America/New_York')).toBe('2026-01-01T00:00:00-05:00');
    expect(localIso(at('2026-03-07T18:30:00Z'), 'Asia/Kolkata')).toBe('2026-03-08T00:00:00+05:30');
  });

  it('makes the presets whole local buckets, today included', () => {
    const now = at('2026-12-02T06:30:00Z'); // 15:30 in Tokyo, 01:30 in New York
    expect(presetRange('last-7-days', 'Asia/Tokyo', now)).toMatchObject({ granularity: 'DAY', from: at('2026-11-25T15:00:00Z'), to: at('2026-12-02T15:00:00Z') });
    expect(presetRange('today', 'America/New_York', now)).toMatchObject({ granularity: 'HOUR', from: at('2026-12-02T05:00:00Z'), to: at('2026-12-03T05:00:00Z') });
    expect(presetRange('this-month', 'Asia/Tokyo', now)).toMatchObject({ granularity: 'DAY', from: at('2026-11-30T15:00:00Z'), to: at('2026-12-02T15:00:00Z') });
    expect(presetRange('last-12-months', 'America/New_York', now)).toMatchObject({ granularity: 'MONTH', from: at('2026-01-01T05:00:00Z'), to: at('2027-01-01T05:00:00Z') });
  });

  it('compares bucket for bucket, as the API does', () => {
    const now = at('2026-12-02T06:30:00Z');
    const year = presetRange('last-12-months', 'America/New_York', now);
    expect(comparisonRange(year, 'PREVIOUS_PERIOD', 'America/New_York')).toEqual({ from: at('2025-01-01T05:00:00Z'), to: at('2026-01-01T05:00:00Z') });
    // February of a leap year compares with the February before, its 29th with the 28th.
    const leap = customRange(date('2028-02-01'), date('2028-02-29'), 'UTC');
    expect(comparisonRange(leap, 'PREVIOUS_YEAR', 'UTC')).toEqual({ from: at('2027-02-01T00:00:00Z'), to: at('2027-03-01T00:00:00Z') });
    // A day of 25 hours compares with the 25 hours before it.
    const long = customRange(date('2026-11-01'), date('2026-11-01'), 'America/New_York');
    expect(long.to - long.from).toBe(25 * 3_600_000);
    expect(comparisonRange(long, 'PREVIOUS_PERIOD', 'America/New_York')).toEqual({ from: long.from - 25 * 3_600_000, to: long.from });
  });

  it('widens a long custom range to whole months, and refuses more than 13', () => {
    expect(customRange(date('2026-01-15'), date('2026-06-10'), 'UTC')).toMatchObject({ granularity: 'MONTH', from: at('2026-01-01T00:00:00Z'), to: at('2026-07-01T00:00:00Z'), wholeMonths: true });
    expect(customRange(date('2026-01-15'), date('2026-01-16'), 'UTC')).toMatchObject({ granularity: 'HOUR' });
    expect(() => customRange(date('2025-01-15'), date('2026-02-10'), 'UTC')).toThrow('a range is at most 13 whole months');
    expect(() => customRange(date('2026-02-10'), date('2026-02-09'), 'UTC')).toThrow('the range ends before it starts');
  });
});
