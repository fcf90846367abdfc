import { ConfigError, readOptionalString } from './env.js';
import { isPublicSecret } from './public-secrets.js';

/**
 * The signing secret used when no key is configured outside production. It
 * is public (it is in this file), so a production process refuses to start
 * with it: tokens signed with it would be forgeable by anyone.
 */
export const DEV_MERCHANT_JWT_SECRET = 'dev-only-merchant-jwt-secret-not-for-production';

/**
 * The key id of MERCHANT_JWT_SECRET. A token without a `kid` header (signed
 * before key ids existed) is verified against this key only.
 */
export const DEFAULT_MERCHANT_JWT_KID = 'default';

/** A key id: short and plain, since it travels in every token's header and in error messages. */
export const MERCHANT_JWT_KID = /^[A-Za-z0-9._-]{1,64}$/;

/** HS256 wants a key at least as long as its 256-bit hash. */
export const MIN_MERCHANT_JWT_SECRET_LENGTH = 32;
const MAX_SECRET_LENGTH = 512;
/** Rotation needs two keys at a time; a few more leave room for an overlap or two, not for a key per merchant. */
export const MAX_MERCHANT_JWT_KEYS = 8;

export interface MerchantJwtKeys {
  /** HS256 secrets by key id, in the order configured. Never log the secrets. */
  keys: ReadonlyMap<string, string>;
  /**
   * The key tokens are signed with (the ops CLI): MERCHANT_JWT_SIGNING_KID,
   * else the only key; undefined when several keys are configured and none is named.
   */
  signingKid: string | undefined;
  /** Where the public development secret is configured (a variable or a key), if it is. */
  devSecretIn: string | undefined;
}

type Env = Record<string, string | undefined>;

/**
 * The keys of merchant and ops tokens:
 *
 * - `MERCHANT_JWT_SECRET`: one key, of id `default`;
 * - `MERCHANT_JWT_KEYS`: `kid:secret` entries separated by commas (a secret
 *   cannot hold a comma; it may hold colons, the first one ends the kid);
 * - both: every key of both, so that a deployment on MERCHANT_JWT_SECRET
 *   can add a key beside it for a rotation.
 *
 * Neither: the development secret as `default`, refused with NODE_ENV=production.
 * Every key is held to the same rules (length, and in production neither the
 * development secret nor one published in the repository). Messages name the
 * variable and the key id, never the secret.
 */
export function loadMerchantJwtKeys(env: Env = process.env): MerchantJwtKeys {
  const production = env.NODE_ENV === 'production';
  const single = readOptionalString(env, 'MERCHANT_JWT_SECRET');
  const list = readOptionalString(env, 'MERCHANT_JWT_KEYS');
  const keys = new Map<string, string>();
  const labels = new Map<string, string>();
  const add = (kid: string, secret: string, label: string) => {
    if (keys.has(kid)) {
      const other = kid === DEFAULT_MERCHANT_JWT_KID && single !== undefined ? ' (MERCHANT_JWT_SECRET is key "default")' : '';
      throw new ConfigError(`MERCHANT_JWT_KEYS configures key "${kid}" twice${other}`);
    }
    keys.set(kid, secret);
    labels.set(kid, label);
  };

  if (single !== undefined) add(DEFAULT_MERCHANT_JWT_KID, single, 'MERCHANT_JWT_SECRET');
  if (list !== undefined) {
    const entries = list.split(',').map((entry) => entry.trim());
    if (entries.length > MAX_MERCHANT_JWT_KEYS) {
      throw new ConfigError(`MERCHANT_JWT_KEYS holds ${entries.length} keys; at most ${MAX_MERCHANT_JWT_KEYS}`);
    }
    entries.forEach((entry, index) => {
      const colon = entry.indexOf(':');
      const kid = colon < 0 ? '' : entry.slice(0, colon);
      // The entry itself is not shown: it may be a secret pasted without its kid.
      if (!MERCHANT_JWT_KID.test(kid) || colon === entry.length - 1) {
        throw new ConfigError(
          `MERCHANT_JWT_KEYS entry ${index + 1} is not "kid:secret" (kid: 1 to 64 letters, digits, ".", "_" or "-"; entries separated by commas)`,
        );
      }
      add(kid, entry.slice(colon + 1), `MERCHANT_JWT_KEYS key "${kid}"`);
    });
  }
  if (keys.size === 0) {
    if (production) throw new ConfigError('MERCHANT_JWT_SECRET or MERCHANT_JWT_KEYS is required but not set (NODE_ENV=production)');
    add(DEFAULT_MERCHANT_JWT_KID, DEV_MERCHANT_JWT_SECRET, 'MERCHANT_JWT_SECRET');
  }
  if (keys.size > MAX_MERCHANT_JWT_KEYS) {
    throw new ConfigError(`MERCHANT_JWT_SECRET and MERCHANT_JWT_KEYS configure ${keys.size} keys; at most ${MAX_MERCHANT_JWT_KEYS}`);
  }

  let devSecretIn: string | undefined;
  for (const [kid, secret] of keys) {
    const label = labels.get(kid)!;
    if (production && secret === DEV_MERCHANT_JWT_SECRET) {
      throw new ConfigError(`${label} is the public development default; set a secret of your own when NODE_ENV=production`);
    }
    if (production && isPublicSecret(secret)) {
      throw new ConfigError(`${label} is a secret published in the repository; set a secret of your own when NODE_ENV=production`);
    }
    if (secret.length < MIN_MERCHANT_JWT_SECRET_LENGTH) {
      throw new ConfigError(`${label} must be at least ${MIN_MERCHANT_JWT_SECRET_LENGTH} characters long`);
    }
    if (secret.length > MAX_SECRET_LENGTH) throw new ConfigError(`${label} must be at most ${MAX_SECRET_LENGTH} characters long`);
    if (secret === DEV_MERCHANT_JWT_SECRET) devSecretIn ??= label;
  }

  const named = readOptionalString(env, 'MERCHANT_JWT_SIGNING_KID');
  if (named !== undefined && !MERCHANT_JWT_KID.test(named)) {
    throw new ConfigError('MERCHANT_JWT_SIGNING_KID is not a key id (1 to 64 letters, digits, ".", "_" or "-")');
  }
  if (named !== undefined && !keys.has(named)) {
    throw new ConfigError(`MERCHANT_JWT_SIGNING_KID names key "${named}", which neither MERCHANT_JWT_KEYS nor MERCHANT_JWT_SECRET configures`);
  }
  const signingKid = named ?? (keys.size === 1 ? [...keys.keys()][0] : undefined);
  return { keys, signingKid, devSecretIn };
}
