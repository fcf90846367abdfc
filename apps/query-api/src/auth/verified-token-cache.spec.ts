import { describe, expect, it } from 'vitest';
import { VerifiedTokenCache } from './verified-token-cache.js';

const merchant = (merchantId: string) => ({ kind: 'merchant' as const, merchantId });

describe('VerifiedTokenCache', () => {
  it('answers a remembered token until its exp, and forgets it then', () => {
    let now = 1_000_000;
    const cache = new VerifiedTokenCache(10, () => now);
    cache.set('t1', merchant('m-1'), 1_010); // exp 1,010 s = 1,010,000 ms
    expect(cache.get('t1')).toEqual(merchant('m-1'));
    expect(cache.get('t2')).toBeUndefined();
    now = 1_009_999;
    expect(cache.get('t1')).toEqual(merchant('m-1'));
    now = 1_010_000;
    expect(cache.get('t1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not keep tokens already expired or without a readable exp', () => {
    const cache = new VerifiedTokenCache(10, () => 5_000_000);
    cache.set('old', merchant('m-1'), 4_999);
    cache.set('no-exp', merchant('m-1'), NaN);
    expect(cache.size).toBe(0);
  });

  it('drops the least recently used token beyond its size', () => {
    const cache = new VerifiedTokenCache(2, () => 0);
    cache.set('a', merchant('m-a'), 100);
    cache.set('b', merchant('m-b'), 100);
    expect(cache.get('a')).toEqual(merchant('m-a')); // b is now the least recently used
    cache.set('c', merchant('m-c'), 100);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([merchant('m-a'), undefined, merchant('m-c')]);
  });
});
