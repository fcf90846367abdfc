import { describe, expect, it } from 'vitest';
import { SketchCache } from './sketch-cache.js';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe('SketchCache', () => {
  it('gives back what a batch committed, and nothing it only staged', () => {
    const cache = new SketchCache(1 << 20);
    const staged = { partition: 3, from: 0, to: 10, entries: [['a', bytes(4, 7)], ['b', bytes(2, 9)]] as Array<[string, Uint8Array]> };
    expect(cache.get('a')).toBeUndefined();
    cache.commit(staged);
    expect([...cache.get('a')!]).toEqual([7, 7, 7, 7]);
    expect([...cache.get('b')!]).toEqual([9, 9]);
    expect(cache.count).toBe(2);
  });

  it('trusts a partition only at the checkpoint it committed, and keeps other partitions', () => {
    const cache = new SketchCache(1 << 20);
    cache.commit({ partition: 1, from: 0, to: 10, entries: [['p1', bytes(3)]] });
    cache.commit({ partition: 2, from: 0, to: 5, entries: [['p2', bytes(3)]] });
    cache.prepare(1, 10);
    expect(cache.get('p1')).toBeDefined();
    // Someone else moved partition 1 on to 20: its entries are not to be believed.
    cache.prepare(1, 20);
    expect(cache.get('p1')).toBeUndefined();
    expect(cache.get('p2')).toBeDefined();
    // A commit that did not start where the cache's last one ended replaces the partition's entries.
    cache.commit({ partition: 2, from: 7, to: 9, entries: [['q2', bytes(3)]] });
    expect([cache.get('p2'), cache.get('q2') !== undefined]).toEqual([undefined, true]);
    cache.forget(2);
    expect([cache.get('q2'), cache.count, cache.bytes]).toEqual([undefined, 0, 0]);
  });

  it('holds at most its bound in bytes, dropping what was not used for longest first', () => {
    const entry = 1000 + 1 + 480; // sketch, a one-letter key, the overhead counted per entry
    const cache = new SketchCache(4 * entry); // two generations of two entries each
    const put = (to: number, ...keys: string[]) => cache.commit({ partition: 0, from: to - 1, to, entries: keys.map((k) => [k, bytes(1000)]) });
    put(1, 'a', 'b');
    expect([cache.count, cache.bytes]).toEqual([2, 2 * entry]);
    put(2, 'c'); // a and b are now the old generation
    expect(cache.get('a')).toBeDefined(); // used: back in the young one, beside c
    put(3, 'd'); // the young one (c, a) was full: it is the old one now, and b is gone
    expect(['a', 'b', 'c', 'd'].map((k) => cache.get(k) !== undefined)).toEqual([true, false, true, true]);
    expect(cache.bytes).toBeLessThanOrEqual(4 * entry);
    for (let i = 0; i < 100; i++) put(4 + i, `k${i % 10}`);
    expect(cache.bytes).toBeLessThanOrEqual(4 * entry);
    // Larger than a generation: not kept at all.
    cache.commit({ partition: 0, from: 103, to: 104, entries: [['big', bytes(3000)]] });
    expect(cache.get('big')).toBeUndefined();
  });

  it('copies a view into a larger buffer, so it holds only the sketch', () => {
    const cache = new SketchCache(1 << 20);
    const pooled = Buffer.from(new ArrayBuffer(8192), 100, 9).fill(5);
    cache.commit({ partition: 0, from: 0, to: 1, entries: [['v', pooled]] });
    const held = cache.get('v')!;
    expect([held.byteLength, held.buffer.byteLength, [...held].every((b) => b === 5)]).toEqual([9, 9, true]);
  });
});
