import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  issueMerchantToken,
  MerchantTokenError,
  parseTokenTtl,
  signMerchantToken,
  verifyMerchantToken,
  verifyMerchantTokenDetails,
  type MerchantTokenKeys,
} from './merchant-tokens.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const NOW = new Date('2026-11-20T12:00:00Z');
const at = (iso: string) => new Date(iso);

/** A token built by hand with jose, so the tests do not only trust signMerchantToken. It has a jti unless claims say otherwise. */
function handMade(claims: Record<string, unknown>, options: { alg?: string; secret?: string; exp?: number | null; kid?: string } = {}) {
  const header = { alg: options.alg ?? 'HS256', ...(options.kid === undefined ? {} : { kid: options.kid }) };
  const jwt = new SignJWT({ jti: 'hand-made-1', ...claims }).setProtectedHeader(header).setIssuer('merchant-payment-analytics').setAudience('query-api');
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? NOW.getTime() / 1000 + 3600);
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
}

async function rejection(token: string, now = NOW, keys: MerchantTokenKeys = SECRET): Promise<string> {
  const error = await verifyMerchantToken(keys, token, now).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MerchantTokenError);
  return (error as Error).message;
}

describe('merchant tokens', () => {
  it('round-trips a merchant token and an ops token', async () => {
    const merchant = await signMerchantToken(SECRET, { kind: 'merchant', merchantId: 'm-1' }, { ttlSeconds: 60, now: NOW });
    const ops = await signMerchantToken(SECRET, { kind: 'ops' }, { ttlSeconds: 60, now: NOW });
    expect(await verifyMerchantToken(SECRET, merchant, NOW)).toEqual({ kind: 'merchant', merchantId: 'm-1' });
    expect(await verifyMerchantToken(SECRET, ops, NOW)).toEqual({ kind: 'ops' });
  });

  it('accepts a hand-made token with the documented claims', async () => {
    expect(await verifyMerchantToken(SECRET, await handMade({ merchantId: 'm-7' }), NOW)).toEqual({ kind: 'merchant', merchantId: 'm-7' });
    expect(await verifyMerchantToken(SECRET, await handMade({ role: 'ops', iat: NOW.getTime() / 1000 }), NOW)).toEqual({ kind: 'ops' });
  });

  it('refuses an expired token, allowing 30 s of clock skew', async () => {
    const token = await signMerchantToken(SECRET, { kind: 'merchant', merchantId: 'm-1' }, { ttlSeconds: 60, now: NOW });
    expect(await verifyMerchantToken(SECRET, token, at('2026-11-20T12:01:29Z'))).toEqual({ kind: 'merchant', merchantId: 'm-1' });
    expect(await rejection(token, at('2026-11-20T12:01:31Z'))).toBe('token expired');
  });

  it('caps an ops token\'s life at 24 h, signed or hand-made, and leaves merchant tokens alone', async () => {
    await expect(signMerchantToken(SECRET, { kind: 'ops' }, { ttlSeconds: 86_401, now: NOW })).rejects.toThrow('an ops token lives at most 24 h');
    const day = await signMerchantToken(SECRET, { kind: 'ops' }, { ttlSeconds: 86_400, now: NOW });
    expect(await verifyMerchantToken(SECRET, day, NOW)).toEqual({ kind: 'ops' });
    const issued = NOW.getTime() / 1000;
    const refusal = 'an ops token must say when it was issued (iat) and live at most 24 h';
    const year = await handMade({ role: 'ops', iat: issued }, { exp: issued + 366 * 86_400 });
    expect(await rejection(year)).toBe(refusal);
    // Still refused in its last day: its life is what counts.
    expect(await rejection(year, new Date(NOW.getTime() + 365.5 * 86_400_000))).toBe(refusal);
    // Without iat, or issued long before its 24 h: refused too.
    expect(await rejection(await handMade({ role: 'ops' }, { exp: issued + 3600 }))).toBe(refusal);
    expect(await rejection(await handMade({ role: 'ops', iat: issued - 30 * 86_400 }, { exp: issued + 3600 }))).toBe(refusal);
    const merchant = await signMerchantToken(SECRET, { kind: 'merchant', merchantId: 'm-1' }, { ttlSeconds: 366 * 86_400, now: NOW });
    expect(await verifyMerchantToken(SECRET, merchant, NOW)).toEqual({ kind: 'merchant', merchantId: 'm-1' });
  });

  it('refuses a token signed with another secret', async () => {
    expect(await rejection(await handMade({ merchantId: 'm-1' }, { secret: 'another-secret-that-is-long-enough-012345' }))).toBe('token signature is invalid');
  });

  it('refuses a token without exp, with another algorithm, or for another audience', async () => {
    expect(await rejection(await handMade({ merchantId: 'm-1' }, { exp: null }))).toBe('token claim "exp" is not acceptable');
    expect(await rejection(await handMade({ merchantId: 'm-1' }, { alg: 'HS512' }))).toBe('token must be signed with HS256');
    const otherAudience = await new SignJWT({ merchantId: 'm-1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('merchant-payment-analytics')
      .setAudience('someone-else')
      .setExpirationTime(NOW.getTime() / 1000 + 60)
      .sign(new TextEncoder().encode(SECRET));
    expect(await rejection(otherAudience)).toBe('token claim "aud" is not acceptable');
  });

  it('refuses an unsigned or altered token, one not valid yet, one from another issuer, and one with critical headers', async () => {
    const good = await handMade({ merchantId: 'm-1' });
    const [header, payload, signature] = good.split('.');
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    expect(await rejection(`${b64({ alg: 'none' })}.${payload}.`)).toBe('token must be signed with HS256');
    expect(await rejection(`${header}.${b64({ ...claims, merchantId: 'm-2' })}.${signature}`)).toBe('token signature is invalid');
    expect(await rejection(`${header}.${payload}.${signature.slice(0, -2)}`)).toBe('token signature is invalid');
    expect(await rejection(`${header}.${payload}.${signature}+`)).toBe('token is malformed');
    expect(await rejection(await handMade({ merchantId: 'm-1', nbf: NOW.getTime() / 1000 + 31 }))).toBe('token claim "nbf" is not acceptable');
    expect(await verifyMerchantToken(SECRET, await handMade({ merchantId: 'm-1', nbf: NOW.getTime() / 1000 + 29 }), NOW)).toEqual({ kind: 'merchant', merchantId: 'm-1' });
    expect(await rejection(await new SignJWT({ merchantId: 'm-1' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('someone')
      .setAudience('query-api').setExpirationTime(NOW.getTime() / 1000 + 60).sign(new TextEncoder().encode(SECRET)))).toBe('token claim "iss" is not acceptable');
    // Correctly signed, but with a critical header extension that no verifier here understands.
    const critical = b64({ alg: 'HS256', crit: ['x-ext'], 'x-ext': 1 });
    const criticalSignature = createHmac('sha256', SECRET).update(`${critical}.${payload}`).digest('base64url');
    expect(await rejection(`${critical}.${payload}.${criticalSignature}`)).toBe('token is malformed');
    // An audience list that names the query API is accepted, as RFC 7519 allows.
    expect(await verifyMerchantToken(SECRET, await new SignJWT({ merchantId: 'm-1', jti: 'j-1' }).setProtectedHeader({ alg: 'HS256' })
      .setIssuer('merchant-payment-analytics').setAudience(['other', 'query-api']).setExpirationTime(NOW.getTime() / 1000 + 60)
      .sign(new TextEncoder().encode(SECRET)), NOW)).toEqual({ kind: 'merchant', merchantId: 'm-1' });
  });

  it('refuses a token that grants nothing, and garbage', async () => {
    expect(await rejection(await handMade({ role: 'admin' }))).toMatch(/grants no access/);
    expect(await rejection(await handMade({ merchantId: '' }))).toMatch(/grants no access/);
    expect(await rejection(await handMade({ merchantId: 42 }))).toMatch(/grants no access/);
    expect(await rejection('not.a.jwt')).toBe('token is malformed');
    expect(await rejection('')).toBe('token is malformed');
  });

  it('never puts the secret in an error message', async () => {
    const messages = [
      await rejection(await handMade({ merchantId: 'm-1' }, { secret: 'another-secret-that-is-long-enough-012345' })),
      await rejection('x.y.z'),
    ];
    for (const message of messages) expect(message).not.toContain(SECRET);
  });

  it('signs with a random jti and the key\'s kid, and verification reports them', async () => {
    const issued = await issueMerchantToken({ kid: 'k2027', secret: SECRET }, { kind: 'merchant', merchantId: 'm-1' }, { ttlSeconds: 60, now: NOW });
    const [header, payload] = issued.token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
    expect(header).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'k2027' });
    expect(issued.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(issued.jti, 'base64url')).toHaveLength(16);
    expect(payload).toEqual({
      merchantId: 'm-1', sub: 'm-1', iss: 'merchant-payment-analytics', aud: 'query-api', jti: issued.jti, iat: NOW.getTime() / 1000, exp: NOW.getTime() / 1000 + 60,
    });
    expect([issued.kid, issued.expiresAt]).toEqual(['k2027', new Date('2026-11-20T12:01:00Z')]);
    expect(verifyMerchantTokenDetails(new Map([['k2027', SECRET]]), issued.token, NOW)).toEqual({
      principal: { kind: 'merchant', merchantId: 'm-1' }, jti: issued.jti, kid: 'k2027', exp: NOW.getTime() / 1000 + 60,
    });
    const other = await issueMerchantToken(SECRET, { kind: 'ops' }, { ttlSeconds: 60, now: NOW });
    expect(other.jti).not.toBe(issued.jti);
    // One secret alone is the key "default".
    expect(JSON.parse(Buffer.from(other.token.split('.')[0]!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'default' });
    await expect(issueMerchantToken({ kid: 'not a kid', secret: SECRET }, { kind: 'ops' }, { ttlSeconds: 60 })).rejects.toThrow('invalid key id');
  });

  it('verifies a token with the key its kid names, and refuses an unknown kid', async () => {
    const OTHER = 'another-secret-that-is-long-enough-012345';
    const keys = new Map([['k1', SECRET], ['k2', OTHER]]);
    const byK1 = await signMerchantToken({ kid: 'k1', secret: SECRET }, { kind: 'merchant', merchantId: 'm-1' }, { ttlSeconds: 60, now: NOW });
    const byK2 = await signMerchantToken({ kid: 'k2', secret: OTHER }, { kind: 'merchant', merchantId: 'm-2' }, { ttlSeconds: 60, now: NOW });
    expect(verifyMerchantTokenDetails(keys, byK1, NOW)).toMatchObject({ principal: { kind: 'merchant', merchantId: 'm-1' }, kid: 'k1' });
    expect(verifyMerchantTokenDetails(keys, byK2, NOW)).toMatchObject({ principal: { kind: 'merchant', merchantId: 'm-2' }, kid: 'k2' });
    // The kid chooses the key: a token naming k1 but signed with k2's secret is a forgery.
    expect(await rejection(await handMade({ merchantId: 'm-1' }, { kid: 'k1', secret: OTHER }), NOW, keys)).toBe('token signature is invalid');
    expect(await rejection(await handMade({ merchantId: 'm-1' }, { kid: 'k3', secret: SECRET }), NOW, keys)).toBe(
      'token key "k3" is unknown here (it may have been retired); ask for a new token',
    );
    for (const kid of ['', 'k 1', 'x'.repeat(65)]) {
      expect(await rejection(await handMade({ merchantId: 'm-1' }, { kid }), NOW, keys)).toBe('token header "kid" is not acceptable');
    }
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const [, payload] = byK1.split('.');
    const numericKid = `${b64({ alg: 'HS256', kid: 7 })}.${payload}`;
    expect(await rejection(`${numericKid}.${createHmac('sha256', SECRET).update(numericKid).digest('base64url')}`, NOW, keys)).toBe('token header "kid" is not acceptable');
  });

  it('verifies a token without kid against the default key only', async () => {
    const noKid = await handMade({ merchantId: 'm-1' });
    expect(await verifyMerchantToken(new Map([['default', SECRET], ['k1', 'another-secret-that-is-long-enough-012345']]), noKid, NOW)).toEqual({ kind: 'merchant', merchantId: 'm-1' });
    expect(verifyMerchantTokenDetails(SECRET, noKid, NOW).kid).toBe('default');
    // Signed with k1's secret: not tried against k1, since it does not say so.
    expect(await rejection(await handMade({ merchantId: 'm-1' }), NOW, new Map([['k1', SECRET]]))).toBe(
      'token names no key (kid) and no default key is configured; ask for a new token',
    );
    expect(await rejection(await handMade({ merchantId: 'm-1' }, { secret: 'another-secret-that-is-long-enough-012345' }), NOW, new Map([['default', SECRET], ['k1', 'another-secret-that-is-long-enough-012345']]))).toBe(
      'token signature is invalid',
    );
  });

  it('rotates keys: a token of the old key is accepted while both keys are configured, and refused once the old one is removed', async () => {
    const OLD = 'a-test-secret-of-at-least-32-characters';
    const NEW = 'someone-elses-secret-0123456789abcdefgh';
    const before = await signMerchantToken({ kid: '2026-11', secret: OLD }, { kind: 'merchant', merchantId: 'm-1' }, { ttlSeconds: 3600, now: NOW });
    // 1. Only the old key.
    expect(await verifyMerchantToken(new Map([['2026-11', OLD]]), before, NOW)).toEqual({ kind: 'merchant', merchantId: 'm-1' });
    // 2. The new key added beside it, then the signer switched to it: both tokens accepted.
    const both = new Map([['2026-11', OLD], ['2026-12', NEW]]);
    const after = await signMerchantToken({ kid: '2026-12', secret: NEW }, { kind: 'merchant', merchantId: 'm-1' }, { ttlSeconds: 3600, now: NOW });
    expect(await verifyMerchantToken(both, before, NOW)).toEqual({ kind: 'merchant', merchantId: 'm-1' });
    expect(await verifyMerchantToken(both, after, NOW)).toEqual({ kind: 'merchant', merchantId: 'm-1' });
    // 3. The old key dropped: its tokens are refused, the new ones still accepted.
    const onlyNew = new Map([['2026-12', NEW]]);
    expect(await rejection(before, NOW, onlyNew)).toBe('token key "2026-11" is unknown here (it may have been retired); ask for a new token');
    expect(await verifyMerchantToken(onlyNew, after, NOW)).toEqual({ kind: 'merchant', merchantId: 'm-1' });
  });

  it('refuses a token without jti, or with one that is not a short printable string', async () => {
    expect(await rejection(await handMade({ merchantId: 'm-1', jti: undefined }))).toBe('token has no id (jti), so it could not be revoked; ask for a new token');
    for (const jti of [42, '', 'has space', 'x'.repeat(129), 'é']) {
      expect(await rejection(await handMade({ merchantId: 'm-1', jti }))).toBe('token claim "jti" is not acceptable');
    }
    expect(verifyMerchantTokenDetails(SECRET, await handMade({ merchantId: 'm-1', jti: 'x'.repeat(128) }), NOW).jti).toBe('x'.repeat(128));
  });

  it('parses ttls', () => {
    expect([parseTokenTtl('90'), parseTokenTtl('90s'), parseTokenTtl('30m'), parseTokenTtl('24h'), parseTokenTtl('7d')]).toEqual([
      90, 90, 1800, 86_400, 604_800,
    ]);
    for (const bad of ['', '0', '1w', '-5m', '367d', '1.5h']) expect(() => parseTokenTtl(bad)).toThrow(MerchantTokenError);
  });
});
