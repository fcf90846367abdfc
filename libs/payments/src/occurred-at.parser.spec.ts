import { describe, expect, it } from 'vitest';
import { canonicalInstant, instantMicros, parseRfc3339, utcDateTime } from './occurred-at.parser.js';

describe('parseRfc3339', () => {
  it('reduces an offset time to UTC seconds and nanos', () => {
    expect(parseRfc3339('2026-11-20T08:45:00.5+05:30')).toEqual({ epochSeconds: 1_795_144_500, nanos: 500_000_000, fraction: '5', utc: false });
    expect(parseRfc3339('2026-11-20T03:15:00.000000007Z')).toEqual({ epochSeconds: 1_795_144_500, nanos: 7, fraction: '000000007', utc: true });
  });

  it('tells a malformed text from an impossible date', () => {
    expect(parseRfc3339('2024-02-29T12:00:00Z')).toEqual({ epochSeconds: 1_709_208_000, nanos: 0, fraction: '', utc: true });
    expect(parseRfc3339('2000-02-29T00:00:00Z')).toEqual({ epochSeconds: 951_782_400, nanos: 0, fraction: '', utc: true });
    expect(parseRfc3339('2026-02-29T12:00:00Z')).toBe('calendar');
    expect(parseRfc3339('2026-00-10T12:00:00Z')).toBe('calendar');
    expect(parseRfc3339('2026-01-00T12:00:00Z')).toBe('calendar');
    expect(parseRfc3339('2026-1-10T12:00:00Z')).toBe('format');
    expect(parseRfc3339('')).toBe('format');
  });
});

describe('canonicalInstant and instantMicros', () => {
  it('writes UTC with the fraction trimmed and truncates to microseconds', () => {
    const text = '2027-01-01T08:59:59.999999999+09:00';
    const instant = parseRfc3339(text);
    if (typeof instant === 'string') expect.fail(instant);
    expect(canonicalInstant(text, instant)).toBe('2026-12-31T23:59:59.999999999Z');
    expect(instantMicros(instant)).toBe(1_798_761_599_999_999n);
  });
});

describe('utcDateTime', () => {
  it.each<[number, string]>([
    [0, '1970-01-01T00:00:00'],
    [951_782_400, '2000-02-29T00:00:00'],
    [4_107_542_400, '2100-03-01T00:00:00'],
    [1_798_761_599, '2026-12-31T23:59:59'],
    [253_402_300_799, '9999-12-31T23:59:59'],
    [-62_135_596_800, '0001-01-01T00:00:00'],
    [253_402_300_800, '10000-01-01T00:00:00'],
  ])('writes %i as %s', (seconds, text) => {
    expect(utcDateTime(seconds)).toBe(text);
  });
});
