import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * Bearer tokens of the query API: HS256 JWTs signed with MERCHANT_JWT_SECRET.
 * A merchant token (claim `merchantId`) reads that merchant only; an ops token
 * (claim `role: "ops"`) reads any. Every token expires: a token without `exp`
 * is refused, so a leaked token cannot stay valid forever.
 */
export type MerchantPrincipal = { kind: 'merchant'; merchantId: string } | { kind: 'ops' };

const ISSUER = 'merchant-payment-analytics';
/** Tokens are for the query API only, even if another service one day shares the secret. */
const AUDIENCE = 'query-api';
const ALGORITHM = 'HS256';
/** Tolerated clock difference between the signer and this process. */
const CLOCK_TOLERANCE_SECONDS = 30;
const MAX_MERCHANT_ID_LENGTH = 128;
/**
 * Longest life of an ops token (it reads every merchant): signed for at most
 * this long, and refused when its `exp` lies further ahead than this, however
 * it was made.
 */
export const MAX_OPS_TOKEN_SECONDS = 86_400;

/** The token is missing, malformed, badly signed or expired. The message is safe to show the caller. */
export class MerchantTokenError extends Error {
  override readonly name = 'MerchantTokenError';
}

let cachedKey: { secret: string; key: KeyObject } | undefined;

/** The HMAC key, imported once per secret (jose would import raw bytes on every call). */
function key(secret: string): KeyObject {
  if (cachedKey?.secret !== secret) cachedKey = { secret, key: createSecretKey(Buffer.from(secret, 'utf8')) };
  return cachedKey.key;
}

export async function signMerchantToken(
  secret: string,
  principal: MerchantPrincipal,
  options: { ttlSeconds: number; now?: Date },
): Promise<string> {
  if (principal.kind === 'merchant' && !validMerchantId(principal.merchantId)) {
    throw new MerchantTokenError(`invalid merchant id "${principal.merchantId}"`);
  }
  if (principal.kind === 'ops' && options.ttlSeconds > MAX_OPS_TOKEN_SECONDS) {
    throw new MerchantTokenError(`an ops token lives at most ${MAX_OPS_TOKEN_SECONDS / 3600} h; ask for a shorter ttl`);
  }
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims = principal.kind === 'ops' ? { role: 'ops' } : { merchantId: principal.merchantId };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(principal.kind === 'ops' ? 'ops' : principal.merchantId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + options.ttlSeconds)
    .sign(key(secret));
}

/** The principal a token stands for; throws MerchantTokenError when the token is not acceptable. */
export async function verifyMerchantToken(secret: string, token: string, now?: Date): Promise<MerchantPrincipal> {
  const nowSeconds = Math.floor((now ?? new Date()).getTime() / 1000);
  const payload = verifiedClaims(secret, token, nowSeconds);
  if (payload.role === 'ops') {
    // verifiedClaims made sure exp (and iat, when present) are numbers. Without iat, a life cannot be told: refused.
    const exp = payload.exp as number;
    const iat = payload.iat as number | undefined;
    if (iat === undefined || exp - iat > MAX_OPS_TOKEN_SECONDS || exp > nowSeconds + MAX_OPS_TOKEN_SECONDS + CLOCK_TOLERANCE_SECONDS) {
      throw new MerchantTokenError(`an ops token must say when it was issued (iat) and live at most ${MAX_OPS_TOKEN_SECONDS / 3600} h`);
    }
    return { kind: 'ops' };
  }
  if (typeof payload.merchantId === 'string' && validMerchantId(payload.merchantId)) {
    return { kind: 'merchant', merchantId: payload.merchantId };
  }
  throw new MerchantTokenError('token grants no access: it has neither a merchantId claim nor role "ops"');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Checks a compact HS256 JWS and its claims, and returns them. Written out
 * rather than with jose's jwtVerify, which goes through WebCrypto: 145 µs per
 * token against 9 here, and the query API verifies a token on most requests
 * of a merchant it has not seen for a while. The rules are jose's (RFC 7515 /
 * 7519): the header must name HS256 and nothing it cannot honour (`crit`,
 * `b64`), the signature is compared in constant time, `exp` is required, `nbf`
 * and `exp` allow CLOCK_TOLERANCE_SECONDS, `iss` and `aud` must be ours. Its
 * messages reveal nothing about the secret or the expected values.
 */
function verifiedClaims(secret: string, token: string, nowSeconds: number): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) throw new MerchantTokenError('token is malformed');
  const header = jsonObject(parts[0]);
  if (header.crit !== undefined || (header.b64 !== undefined && header.b64 !== true)) throw new MerchantTokenError('token is malformed');
  if (header.alg !== ALGORITHM) {
    throw new MerchantTokenError(typeof header.alg === 'string' ? 'token must be signed with HS256' : 'token is malformed');
  }
  const expected = createHmac('sha256', key(secret)).update(`${parts[0]}.${parts[1]}`).digest();
  const signature = Buffer.from(parts[2], 'base64url');
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
    throw new MerchantTokenError('token signature is invalid');
  }
  const claims = jsonObject(parts[1]);
  const refuse = (claim: string) => new MerchantTokenError(`token claim "${claim}" is not acceptable`);
  const numeric = (claim: string) => {
    const value = claims[claim];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) throw refuse(claim);
    return value as number | undefined;
  };
  const exp = numeric('exp');
  const nbf = numeric('nbf');
  numeric('iat');
  if (exp === undefined) throw refuse('exp');
  if (claims.iss !== ISSUER) throw refuse('iss');
  const audience = claims.aud;
  if (!(audience === AUDIENCE || (Array.isArray(audience) && audience.includes(AUDIENCE)))) throw refuse('aud');
  if (nbf !== undefined && nbf > nowSeconds + CLOCK_TOLERANCE_SECONDS) throw refuse('nbf');
  if (exp <= nowSeconds - CLOCK_TOLERANCE_SECONDS) throw new MerchantTokenError('token expired');
  return claims;
}

/** A base64url segment holding a JSON object, or MerchantTokenError. */
function jsonObject(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new MerchantTokenError('token is malformed');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MerchantTokenError('token is malformed');
  return value as Record<string, unknown>;
}

function validMerchantId(value: string): boolean {
  return value.length > 0 && value.length <= MAX_MERCHANT_ID_LENGTH;
}

/** `24h`, `30m`, `7d`, `90s` or plain seconds, as the ops CLI accepts them. */
export function parseTokenTtl(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 } as const;
  const seconds = match ? Number(match[1]) * unit[match[2] as keyof typeof unit] : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 366 * 86_400) {
    throw new MerchantTokenError(`invalid ttl "${text}": use a duration like 90s, 30m, 24h or 7d, at most 366d`);
  }
  return seconds;
}
