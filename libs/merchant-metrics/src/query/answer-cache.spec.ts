import { describe, expect, it } from 'vitest';
import { AnswerCache, answerCacheKey, estimateAnswerBytes } from './answer-cache.js';
import type { MetricsAnswer, MetricValues } from './metrics-query.js';

const values = (n: number): MetricValues => ({
  currency: 'JPY', transactionCount: n, grossAmount: BigInt(n) * 100n, refundCount: 0, refundAmount: 0n, netAmount: BigInt(n) * 100n,
  failedCount: 0, averageTicket: 100n, uniqueCustomers: n, uniqueCustomersExact: true,
});

/** An answer of one series of `points` points (with their previous values when `compare`). */
function answer(points: number, compare = false): MetricsAnswer {
  return {
    freshness: { asOf: new Date(0), lagSeconds: 0, version: 3 },
    totals: [values(points)],
    series: [{
      currency: 'JPY', paymentMethod: null, storeId: null,
      points: Array.from({ length: points }, (_, i) => ({ start: new Date(i * 86_400_000), values: values(i), previous: compare ? values(i) : null })),
    }],
  };
}

describe('AnswerCache', () => {
  it('estimates an answer from its values, points and series (512 + 240 per values + 90 per point and series)', () => {
    expect(estimateAnswerBytes(answer(10))).toBe(512 + 240 + 90 + 10 * (90 + 240));
    expect(estimateAnswerBytes(answer(10, true))).toBe(512 + 240 + 90 + 10 * (90 + 2 * 240));
  });

  it('holds at most its bound, evicting the least recently used first', () => {
    const one = 2 * 'k0'.length + estimateAnswerBytes(answer(30));
    const cache = new AnswerCache(one * 16);
    for (let i = 0; i < 16; i++) expect(cache.set(`k${i.toString(16)}`, 'w', answer(30))).toBe(true);
    expect(cache.size).toBe(16);
    expect(cache.bytes).toBe(16 * one);
    // Touching k0 makes k1 the least recently used.
    expect(cache.get('k0')?.watermark).toBe('w');
    cache.set('kg', 'w', answer(30));
    expect(cache.size).toBe(16);
    expect(cache.bytes).toBe(16 * one);
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.get('k0')).toBeDefined();
    expect(cache.get('kg')).toBeDefined();
  });

  it('refuses an answer larger than a sixteenth of the bound, and replaces an entry under the same key', () => {
    const cache = new AnswerCache(16 * estimateAnswerBytes(answer(10)));
    expect(cache.set('big', 'w', answer(100))).toBe(false);
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
    cache.set('a', 'w1', answer(5));
    const bytes = cache.bytes;
    cache.set('a', 'w2', answer(5));
    expect(cache.get('a')?.watermark).toBe('w2');
    expect(cache.bytes).toBe(bytes);
    cache.delete('a');
    expect(cache.bytes).toBe(0);
  });

  it('keys every input that shapes an answer', () => {
    const query = { merchantId: 'm', from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-02-01T00:00:00Z'), granularity: 'DAY' as const, timeZone: 'UTC', groupBy: [] };
    const base = answerCacheKey(3, query, {});
    const variants = [
      answerCacheKey(2, query, {}),
      answerCacheKey(3, { ...query, merchantId: 'n' }, {}),
      answerCacheKey(3, { ...query, from: new Date('2026-01-02T00:00:00Z') }, {}),
      answerCacheKey(3, { ...query, to: new Date('2026-02-02T00:00:00Z') }, {}),
      answerCacheKey(3, { ...query, granularity: 'WEEK' }, {}),
      answerCacheKey(3, { ...query, timeZone: 'Asia/Tokyo' }, {}),
      answerCacheKey(3, { ...query, groupBy: ['STORE'] }, {}),
      answerCacheKey(3, { ...query, compareTo: 'PREVIOUS_PERIOD' }, {}),
      answerCacheKey(3, query, { uniqueCustomers: false }),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
    expect(answerCacheKey(3, { ...query }, { uniqueCustomers: true })).toBe(base);
  });

  it('leaves out a merchant whose data changed twice in a row: 10 s, then twice as long each time up to 5 min, until an entry is served again', () => {
    let now = 1_000_000;
    const cache = new AnswerCache(1 << 20, () => now);
    expect(cache.admits('m')).toBe(true);
    // Once is chance (an event between two refreshes of a quiet merchant): still admitted.
    cache.noteChanged('m');
    expect(cache.admits('m')).toBe(true);
    const skips: number[] = [];
    for (let i = 0; i < 8; i++) {
      cache.noteChanged('m');
      const from = now;
      while (!cache.admits('m')) now += 1_000;
      skips.push(now - from);
    }
    expect(skips).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    expect(cache.admits('other')).toBe(true);
    // Served again once: quiet now, and the next change is chance again.
    cache.noteUnchanged('m');
    cache.noteChanged('m');
    expect(cache.admits('m')).toBe(true);
    cache.noteChanged('m');
    expect(cache.admits('m')).toBe(false);
    // A new version starts from nothing.
    cache.clear();
    expect(cache.admits('m')).toBe(true);
  });

  it('remembers the churn of at most 10,000 merchants, forgetting the least recently changed first', () => {
    const now = 0;
    const cache = new AnswerCache(1 << 20, () => now);
    for (let i = 0; i <= 10_000; i++) {
      cache.noteChanged(`m${i}`);
      cache.noteChanged(`m${i}`);
    }
    expect(cache.admits('m0')).toBe(true);
    expect(cache.admits('m1')).toBe(false);
    expect(cache.admits('m10000')).toBe(false);
  });
});
