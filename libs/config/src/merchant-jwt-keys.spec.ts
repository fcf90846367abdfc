import { describe, expect, it } from 'vitest';
import { ConfigError } from './env.js';
import { DEV_MERCHANT_JWT_SECRET, loadMerchantJwtKeys } from './merchant-jwt-keys.js';
import { PUBLIC_SECRETS } from './public-secrets.js';

// Built, not written: no secret literal of its own (public-secrets.spec.ts).
const A = 'a'.repeat(40);
const B = 'b'.repeat(32);
const C = 'c'.repeat(48);

function refusal(env: Record<string, string>): string {
  let error: unknown;
  try {
    loadMerchantJwtKeys(env);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  return (error as Error).message;
}

describe('merchant JWT keys', () => {
  it('makes MERCHANT_JWT_SECRET the key "default", and the development secret that key when nothing is set', () => {
    expect(loadMerchantJwtKeys({ MERCHANT_JWT_SECRET: A })).toEqual({ keys: new Map([['default', A]]), signingKid: 'default', devSecretIn: undefined });
    expect(loadMerchantJwtKeys({})).toEqual({
      keys: new Map([['default', DEV_MERCHANT_JWT_SECRET]]),
      signingKid: 'default',
      devSecretIn: 'MERCHANT_JWT_SECRET',
    });
  });

  it('reads kid:secret entries, in order, and signs with MERCHANT_JWT_SIGNING_KID, or the only key', () => {
    const MERCHANT_JWT_KEYS = `2026-07:${B}, 2027-01:${C}`;
    expect(loadMerchantJwtKeys({ MERCHANT_JWT_KEYS, MERCHANT_JWT_SIGNING_KID: '2027-01' })).toEqual({
      keys: new Map([['2026-07', B], ['2027-01', C]]),
      signingKid: '2027-01',
      devSecretIn: undefined,
    });
    expect(loadMerchantJwtKeys({ MERCHANT_JWT_KEYS }).signingKid).toBeUndefined();
    expect(loadMerchantJwtKeys({ MERCHANT_JWT_KEYS: `only:${B}` }).signingKid).toBe('only');
    // A secret may hold colons: the first one ends the kid. No development default beside configured keys.
    expect(loadMerchantJwtKeys({ MERCHANT_JWT_KEYS: `k1:${B}:${C}` }).keys).toEqual(new Map([['k1', `${B}:${C}`]]));
  });

  it('adds MERCHANT_JWT_KEYS to MERCHANT_JWT_SECRET, for a rotation away from the single secret', () => {
    expect(loadMerchantJwtKeys({ MERCHANT_JWT_SECRET: A, MERCHANT_JWT_KEYS: `new:${B}`, MERCHANT_JWT_SIGNING_KID: 'new' })).toEqual({
      keys: new Map([['default', A], ['new', B]]),
      signingKid: 'new',
      devSecretIn: undefined,
    });
    expect(refusal({ MERCHANT_JWT_SECRET: A, MERCHANT_JWT_KEYS: `default:${B}` })).toBe(
      'MERCHANT_JWT_KEYS configures key "default" twice (MERCHANT_JWT_SECRET is key "default")',
    );
    expect(refusal({ MERCHANT_JWT_KEYS: `k:${B},k:${C}` })).toBe('MERCHANT_JWT_KEYS configures key "k" twice');
  });

  it('bounds the number of keys, their ids and their sizes, without showing a secret', () => {
    const nine = Array.from({ length: 9 }, (_, i) => `k${i}:${B}`);
    expect(refusal({ MERCHANT_JWT_KEYS: nine.join(',') })).toBe('MERCHANT_JWT_KEYS holds 9 keys; at most 8');
    expect(loadMerchantJwtKeys({ MERCHANT_JWT_KEYS: nine.slice(1).join(',') }).keys.size).toBe(8);
    expect(refusal({ MERCHANT_JWT_SECRET: A, MERCHANT_JWT_KEYS: nine.slice(1).join(',') })).toBe(
      'MERCHANT_JWT_SECRET and MERCHANT_JWT_KEYS configure 9 keys; at most 8',
    );
    const badEntry = 'MERCHANT_JWT_KEYS entry 2 is not "kid:secret" (kid: 1 to 64 letters, digits, ".", "_" or "-"; entries separated by commas)';
    for (const second of [C, `:${C}`, `${'k'.repeat(65)}:${C}`, `k y:${C}`, 'k:', '']) {
      const message = refusal({ MERCHANT_JWT_KEYS: `k1:${B},${second}` });
      expect(message).toBe(badEntry);
      expect(message).not.toContain(C);
    }
    expect(loadMerchantJwtKeys({ MERCHANT_JWT_KEYS: `${'k'.repeat(64)}:${B}` }).signingKid).toBe('k'.repeat(64));
    expect(refusal({ MERCHANT_JWT_KEYS: `k1:${B},k2:${'s'.repeat(31)}` })).toBe('MERCHANT_JWT_KEYS key "k2" must be at least 32 characters long');
    expect(refusal({ MERCHANT_JWT_KEYS: `k1:${'s'.repeat(513)}` })).toBe('MERCHANT_JWT_KEYS key "k1" must be at most 512 characters long');
    expect(refusal({ MERCHANT_JWT_SECRET: 's'.repeat(31) })).toBe('MERCHANT_JWT_SECRET must be at least 32 characters long');
  });

  it('refuses, in production, the development secret and every published secret as any key', () => {
    const NODE_ENV = 'production';
    expect(refusal({ NODE_ENV })).toBe('MERCHANT_JWT_SECRET or MERCHANT_JWT_KEYS is required but not set (NODE_ENV=production)');
    expect(refusal({ NODE_ENV, MERCHANT_JWT_KEYS: `k1:${B},k2:${DEV_MERCHANT_JWT_SECRET}` })).toBe(
      'MERCHANT_JWT_KEYS key "k2" is the public development default; set a secret of your own when NODE_ENV=production',
    );
    for (const published of PUBLIC_SECRETS) {
      if (published === DEV_MERCHANT_JWT_SECRET) continue;
      expect(refusal({ NODE_ENV, MERCHANT_JWT_KEYS: `k1:${B},k2:${published}` })).toBe(
        'MERCHANT_JWT_KEYS key "k2" is a secret published in the repository; set a secret of your own when NODE_ENV=production',
      );
      expect(refusal({ NODE_ENV, MERCHANT_JWT_SECRET: published, MERCHANT_JWT_KEYS: `k1:${B}` })).toBe(
        'MERCHANT_JWT_SECRET is a secret published in the repository; set a secret of your own when NODE_ENV=production',
      );
    }
    expect(loadMerchantJwtKeys({ NODE_ENV, MERCHANT_JWT_KEYS: `k1:${B},k2:${C}`, MERCHANT_JWT_SIGNING_KID: 'k1' }).keys.size).toBe(2);
    // Outside production, a published secret is only a development convenience.
    expect(loadMerchantJwtKeys({ MERCHANT_JWT_KEYS: `k2:${DEV_MERCHANT_JWT_SECRET}` }).devSecretIn).toBe('MERCHANT_JWT_KEYS key "k2"');
  });

  it('refuses a signing kid that names no configured key, without echoing what is not a key id', () => {
    expect(refusal({ MERCHANT_JWT_KEYS: `k1:${B}`, MERCHANT_JWT_SIGNING_KID: 'k2' })).toBe(
      'MERCHANT_JWT_SIGNING_KID names key "k2", which neither MERCHANT_JWT_KEYS nor MERCHANT_JWT_SECRET configures',
    );
    expect(refusal({ MERCHANT_JWT_KEYS: `k1:${B}`, MERCHANT_JWT_SIGNING_KID: `k1:${B}` })).toBe(
      'MERCHANT_JWT_SIGNING_KID is not a key id (1 to 64 letters, digits, ".", "_" or "-")',
    );
  });
});
