import { describe, expect, it } from 'vitest';
import { parseDateTime } from './date-time.scalar.js';

describe('DateTime', () => {
  it('reads RFC 3339 instants with any offset and fraction as the same UTC instant', () => {
    expect(parseDateTime('2026-11-20T03:15:00Z').toISOString()).toBe('2026-11-20T03:15:00.000Z');
    expect(parseDateTime('2026-11-20T12:15:00+09:00').toISOString()).toBe('2026-11-20T03:15:00.000Z');
    expect(parseDateTime('2026-11-19T21:45:00.5-05:30').toISOString()).toBe('2026-11-20T03:15:00.500Z');
    expect(parseDateTime('2024-02-29T00:00:00.123456789Z').toISOString()).toBe('2024-02-29T00:00:00.123Z');
  });

  it('refuses date-times without an offset, impossible dates and other shapes, with BAD_USER_INPUT', () => {
    const refused = ['2026-11-20T03:15:00', '2026-11-20', '2026-02-30T00:00:00Z', '2025-02-29T00:00:00Z', '2026-11-20T24:00:00Z', '2026-11-20 03:15:00Z', 'yesterday', '2026-11-20T03:15:00+24:00'];
    for (const text of refused) {
      let code: unknown;
      try {
        parseDateTime(text);
      } catch (error) {
        code = (error as { extensions?: { code?: string } }).extensions?.code;
      }
      expect([text, code]).toEqual([text, 'BAD_USER_INPUT']);
    }
  });
});
