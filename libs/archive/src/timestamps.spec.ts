import { describe, expect, it } from 'vitest';
import { formatMicros, utcMonthOf } from './timestamps.js';

describe('formatMicros', () => {
  it('formats as readPartition does, with six fractional digits', () => {
    expect(formatMicros(1_700_000_000_123_456n)).toBe('2023-11-14T22:13:20.123456Z');
    expect(formatMicros(1_700_000_000_000_001n)).toBe('2023-11-14T22:13:20.000001Z');
    expect(formatMicros(0n)).toBe('1970-01-01T00:00:00.000000Z');
  });

  it('keeps a positive fraction before the epoch', () => {
    expect(formatMicros(-1n)).toBe('1969-12-31T23:59:59.999999Z');
    expect(formatMicros(-1_000_000n)).toBe('1969-12-31T23:59:59.000000Z');
  });

  it('names the UTC month', () => {
    // 2023-01-31T23:59:59.999999Z and one microsecond later.
    expect(utcMonthOf(1_675_209_599_999_999n)).toBe('2023-01');
    expect(utcMonthOf(1_675_209_600_000_000n)).toBe('2023-02');
  });
});
