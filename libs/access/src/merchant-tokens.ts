import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { DEFAULT_MERCHANT_JWT_KID, MERCHANT_JWT_KID } from '@app/config';
import { SignJWT } from 'jose';

/**
 * Bearer tokens of the query API: HS256 JWTs. A merchant token (claim
 * `merchantId`) reads that merchant only; an ops token (claim `role: "ops"`)
 * reads any. Every token expires: a token without `exp` is refused, so a
 * leaked token cannot stay valid forever. Every token has a random `jti`, by
 * which it can be revoked (revoked-tokens.ts), and names in its header the
 * key it was signed with (`kid`), so that keys can be rotated: the verifier
 * holds several keys by id, the signer uses one.
 */
export type MerchantPrincipal = { kind: 'merchant'; merchantId: string } | { kind: 'ops' };

/**
 * Verification keys: HS256 secrets by key id, or one secret, which is the key
 * of id `default` (MERCHANT_JWT_SECRET). A token without `kid` is checked
 * against the `default` key only.
 */
export type MerchantTokenKeys = string | ReadonlyMap<string, string>;

/** The key to sign with: a secret and its id, or one secret alone (key `default`). */
export type MerchantSigningKey = string | { kid: string; secret: string };

/** What a verified token says, beyond the principal: what revocation and caching need. */
export interface VerifiedMerchantToken {
  principal: MerchantPrincipal;
  /** The token's id, for the revocation list. */
  jti: string;
  /** The key it was verified with (`default` for a token without `kid`). */
  kid: string;
  /** Its `exp` claim, in epoch seconds. */
  exp: number;
}

export interface IssuedMerchantToken {
  token: string;
  jti: string;
  kid: string;
  expiresAt: Date;
}

const ISSUER = 'merchant-payment-analytics';
/** Tokens are for the query API only, even if another service one day shares the secret. */
const AUDIENCE = 'query-api';
const ALGORITHM = 'HS256';
/** Tolerated clock difference between the signer and this process: a token is accepted up to this long past its `exp`. */
export const TOKEN_CLOCK_TOLERANCE_SECONDS = 30;
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

/** Longest `jti` accepted (ours have 22 characters): it is kept in memory and in access.revoked_tokens. */
export const MAX_JTI_LENGTH = 128;
/** Printable ASCII without spaces: safe in logs and on a command line. */
const JTI = new RegExp(`^[\\x21-\\x7e]{1,${MAX_JTI_LENGTH}}$`);

/** Imported HMAC keys by secret: a process holds a few keys (MAX_MERCHANT_JWT_KEYS), tests a few more. */
const importedKeys = new Map<string, KeyObject>();

/** The HMAC key, imported once per secret (jose would import raw bytes on every call). */
function key(secret: string): KeyObject {
  let imported = importedKeys.get(secret);
  if (imported === undefined) {
    if (importedKeys.size >= 64) importedKeys.clear();
    imported = createSecretKey(Buffer.from(secret, 'utf8'));
    importedKeys.set(secret, imported);
  }
  return imported;
}

/** The secret of key `kid` (`undefined` for a token without `kid`), or MerchantTokenError. */
function secretFor(keys: MerchantTokenKeys, kid: string | undefined): string {
  const id = kid ?? DEFAULT_MERCHANT_JWT_KID;
  const secret = typeof keys === 'string' ? (id === DEFAULT_MERCHANT_JWT_KID ? keys : undefined) : keys.get(id);
  if (secret !== undefined) return secret;
  throw new MerchantTokenError(
    kid === undefined
      ? 'token names no key (kid) and no default key is configured; ask for a new token'
      : `token key "${kid}" is unknown here (it may have been retired); ask for a new token`,
  );
}

/** Signs a token; see issueMerchantToken for its id and expiry. */
export async function signMerchantToken(
  key: MerchantSigningKey,
  principal: MerchantPrincipal,
  options: { ttlSeconds: number; now?: Date },
): Promise<string> {
  return (await issueMerchantToken(key, principal, options)).token;
}

/** Signs a token with a fresh random `jti` (128 bits) and the key's `kid`, and says what they are. */
export async function issueMerchantToken(
  signingKey: MerchantSigningKey,
  principal: MerchantPrincipal,
  options: { ttlSeconds: number; now?: Date },
): Promise<IssuedMerchantToken> {
  const { kid, secret } = typeof signingKey === 'string' ? { kid: DEFAULT_MERCHANT_JWT_KID, secret: signingKey } : signingKey;
  if (!MERCHANT_JWT_KID.test(kid)) throw new MerchantTokenError('invalid key id: use 1 to 64 letters, digits, ".", "_" or "-"');
  if (principal.kind === 'merchant' && !validMerchantId(principal.merchantId)) {
    throw new MerchantTokenError(`invalid merchant id "${principal.merchantId}"`);
  }
  if (principal.kind === 'ops' && options.ttlSeconds > MAX_OPS_TOKEN_SECONDS) {
    throw new MerchantTokenError(`an ops token lives at most ${MAX_OPS_TOKEN_SECONDS / 3600} h; ask for a shorter ttl`);
  }
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims = principal.kind === 'ops' ? { role: 'ops' } : { merchantId: principal.merchantId };
  const jti = randomBytes(16).toString('base64url');
  const exp = now + options.ttlSeconds;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT', kid })
    .setSubject(principal.kind === 'ops' ? 'ops' : principal.merchantId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setJti(jti)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(key(secret));
  return { token, jti, kid, expiresAt: new Date(exp * 1000) };
}

/** The principal a token stands for; throws MerchantTokenError when the token is not acceptable. */
export async function verifyMerchantToken(keys: MerchantTokenKeys, token: string, now?: Date): Promise<MerchantPrincipal> {
  return verifyMerchantTokenDetails(keys, token, now).principal;
}

/**
 * The principal, id, key and expiry of an acceptable token; throws
 * MerchantTokenError otherwise. Revocation is the caller's: this checks the
 * token alone.
 */
export function verifyMerchantTokenDetails(keys: MerchantTokenKeys, token: string, now?: Date): VerifiedMerchantToken {
  const nowSeconds = Math.floor((now ?? new Date()).getTime() / 1000);
  const { kid, claims: payload } = verifiedClaims(keys, token, nowSeconds);
  const principal = principalOf(payload, nowSeconds);
  // Tokens signed before ids existed have none: they could not be revoked, so they are refused (docs/security.md).
  if (payload.jti === undefined) throw new MerchantTokenError('token has no id (jti), so it could not be revoked; ask for a new token');
  if (typeof payload.jti !== 'string' || !validTokenId(payload.jti)) throw new MerchantTokenError('token claim "jti" is not acceptable');
  return { principal, jti: payload.jti, kid, exp: payload.exp as number };
}

function principalOf(payload: Record<string, unknown>, nowSeconds: number): MerchantPrincipal {
  if (payload.role === 'ops') {
    // verifiedClaims made sure exp (and iat, when present) are numbers. Without iat, a life cannot be told: refused.
    const exp = payload.exp as number;
    const iat = payload.iat as number | undefined;
    if (iat === undefined || exp - iat > MAX_OPS_TOKEN_SECONDS || exp > nowSeconds + MAX_OPS_TOKEN_SECONDS + TOKEN_CLOCK_TOLERANCE_SECONDS) {
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
 * `b64`), its `kid` (if any) a key held here, the signature is compared in
 * constant time, `exp` is required, `nbf` and `exp` allow
 * TOKEN_CLOCK_TOLERANCE_SECONDS, `iss` and `aud` must be ours. Its messages reveal
 * nothing about the secrets or the expected values (key ids are not secret).
 */
function verifiedClaims(keys: MerchantTokenKeys, token: string, nowSeconds: number): { kid: string; claims: Record<string, unknown> } {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) throw new MerchantTokenError('token is malformed');
  const header = jsonObject(parts[0]);
  if (header.crit !== undefined || (header.b64 !== undefined && header.b64 !== true)) throw new MerchantTokenError('token is malformed');
  if (header.alg !== ALGORITHM) {
    throw new MerchantTokenError(typeof header.alg === 'string' ? 'token must be signed with HS256' : 'token is malformed');
  }
  if (header.kid !== undefined && (typeof header.kid !== 'string' || !MERCHANT_JWT_KID.test(header.kid))) {
    throw new MerchantTokenError('token header "kid" is not acceptable');
  }
  const kid = header.kid as string | undefined;
  const secret = secretFor(keys, kid);
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
  if (nbf !== undefined && nbf > nowSeconds + TOKEN_CLOCK_TOLERANCE_SECONDS) throw refuse('nbf');
  if (exp <= nowSeconds - TOKEN_CLOCK_TOLERANCE_SECONDS) throw new MerchantTokenError('token expired');
  return { kid: kid ?? DEFAULT_MERCHANT_JWT_KID, claims };
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

/** Whether a value may be a token's `jti` (what the verifier accepts, and access.revoked_tokens holds). */
export function validTokenId(value: string): boolean {
  return JTI.test(value);
}

function validMerchantId(value: string): boolean {
  return value.length > 0 && value.length <= MAX_MERCHANT_ID_LENGTH;
}

/** Longest ttl the ops CLI signs a token for. */
export const MAX_TOKEN_TTL_SECONDS = 366 * 86_400;

/** `24h`, `30m`, `7d`, `90s` or plain seconds, as the ops CLI accepts them. */
export function parseTokenTtl(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 } as const;
  const seconds = match ? Number(match[1]) * unit[match[2] as keyof typeof unit] : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_TOKEN_TTL_SECONDS) {
    throw new MerchantTokenError(`invalid ttl "${text}": use a duration like 90s, 30m, 24h or 7d, at most 366d`);
  }
  return seconds;
}
