import { createSecretKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

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

/** The token is missing, malformed, badly signed or expired. The message is safe to show the caller. */
export class MerchantTokenError extends Error {
  override readonly name = 'MerchantTokenError';
}

let cachedKey: { secret: string; key: KeyObject } | undefined;

/**
 * The HMAC key, imported once per secret: given raw bytes, jose imports a key
 * on every call, which cost 9% of the query API's CPU when most tokens were new.
 */
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
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key(secret), {
      algorithms: [ALGORITHM],
      issuer: ISSUER,
      audience: AUDIENCE,
      requiredClaims: ['exp'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: now,
    }));
  } catch (error) {
    throw new MerchantTokenError(describe(error));
  }
  if (payload.role === 'ops') return { kind: 'ops' };
  if (typeof payload.merchantId === 'string' && validMerchantId(payload.merchantId)) {
    return { kind: 'merchant', merchantId: payload.merchantId };
  }
  throw new MerchantTokenError('token grants no access: it has neither a merchantId claim nor role "ops"');
}

/** Maps jose's errors to short messages that reveal nothing about the secret or the expected claims' values. */
function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token must be signed with HS256';
  if (error instanceof errors.JWTClaimValidationFailed) return `token claim "${error.claim}" is not acceptable`;
  return 'token is malformed';
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
