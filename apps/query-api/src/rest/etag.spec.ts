import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MetricsQuery } from '@app/merchant-metrics';
import { etagOf, etagQuery, noneMatchFails } from './etag.js';

const QUERY: MetricsQuery = {
  merchantId: 'm-1',
  from: new Date('2026-03-08T05:00:00Z'),
  to: new Date('2026-03-09T05:00:00Z'),
  granularity: 'DAY',
  timeZone: 'America/New_York',
  groupBy: ['STORE'],
};

describe('etagOf', () => {
  it('is a weak tag of the SHA-256 of the three parts', () => {
    const digest = createHash('sha256').update('[3,"w-7","q"]').digest('base64url');
    expect(etagOf({ liveVersion: 3, watermark: 'w-7', query: 'q' })).toBe(`W/"${digest}"`);
  });

  it('changes with each part', () => {
    const tags = new Set([
      etagOf({ liveVersion: 3, watermark: 'w-7', query: 'q' }),
      etagOf({ liveVersion: 4, watermark: 'w-7', query: 'q' }),
      etagOf({ liveVersion: 3, watermark: 'w-8', query: 'q' }),
      etagOf({ liveVersion: 3, watermark: 'w-7', query: 'r' }),
      // Parts cannot run into each other.
      etagOf({ liveVersion: 3, watermark: 'w-7q', query: '' }),
    ]);
    expect(tags.size).toBe(5);
  });
});

describe('etagQuery', () => {
  it('spells one question one way, and any difference differently', () => {
    const same = { ...QUERY, from: new Date('2026-03-08T00:00:00-05:00') };
    expect(etagQuery(same, 'r1')).toBe(etagQuery(QUERY, 'r1'));
    expect(etagQuery(QUERY, 'r1')).toBe('["r1","m-1","2026-03-08T05:00:00.000Z","2026-03-09T05:00:00.000Z","DAY","America/New_York",["STORE"],null]');
    const others = [{ ...QUERY, groupBy: [] }, { ...QUERY, compareTo: 'PREVIOUS_YEAR' as const }, { ...QUERY, timeZone: 'UTC' }, { ...QUERY, merchantId: 'm-2' }];
    for (const other of others) expect(etagQuery(other, 'r1')).not.toBe(etagQuery(QUERY, 'r1'));
    expect(etagQuery(QUERY, 'r2')).not.toBe(etagQuery(QUERY, 'r1'));
  });
});

describe('noneMatchFails (If-None-Match, weak comparison)', () => {
  const tag = 'W/"abc"';
  it('matches the tag weak or strong, in a list, or *', () => {
    for (const header of ['W/"abc"', '"abc"', '"x", W/"abc"', 'W/"x",W/"abc"', '*', ' * ']) expect([header, noneMatchFails(header, tag)]).toEqual([header, true]);
  });

  it('does not match other tags, parts of it, or nothing', () => {
    for (const header of [undefined, '', 'W/"ab"', '"abcd"', 'abc', 'W/abc', '"x", "y"']) expect([header, noneMatchFails(header, tag)]).toEqual([header, false]);
  });
});
