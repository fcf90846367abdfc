import { ConfigError, readInt, readString, readUrl } from './env.js';
import { loadMerchantJwtKeys } from './merchant-jwt-keys.js';

export interface QueryApiConfig {
  databaseUrl: string;
  host: string;
  port: number;
  /** HS256 keys of merchant and ops tokens, by key id (MERCHANT_JWT_SECRET, MERCHANT_JWT_KEYS). Never log them. */
  merchantJwtKeys: ReadonlyMap<string, string>;
  /** True when one of the keys is the public development default. */
  usesDevSecret: boolean;
  databasePoolSize: number;
  /** Most buckets one answer may hold per series (range ÷ granularity, comparison included). */
  maxBuckets: number;
  /** Longest [from, to) range a query may ask for. */
  maxRangeDays: number;
  /**
   * Deepest selection nesting an operation may have. The merchant schema is at
   * most 5 deep; graphql-js's standard introspection query is 15 deep, and
   * introspection is the only cyclic part of the schema, so this mostly bounds it.
   */
  maxDepth: number;
  /** Highest cost an operation may have; merchantMetrics costs 100, every other field 1. */
  maxComplexity: number;
  /** Most aliased fields in one document, so one request cannot fan out into many merchantMetrics. */
  maxAliases: number;
  maxBodyBytes: number;
  /** Bytes of answers kept for repeated questions (QUERY_CACHE_MB); 0: no cache. */
  answerCacheBytes: number;
}

export function loadQueryApiConfig(env: Record<string, string | undefined> = process.env): QueryApiConfig {
  const { keys, devSecretIn } = loadMerchantJwtKeys(env);
  const host = readString(env, 'HOST', '127.0.0.1');
  if (devSecretIn !== undefined && !isLoopback(host)) {
    const what = devSecretIn === 'MERCHANT_JWT_SECRET' ? 'MERCHANT_JWT_SECRET is unset (or the public development default)' : `${devSecretIn} is the public development default`;
    throw new ConfigError(`${what} while HOST=${host} is reachable from other machines: anyone could sign tokens; set a secret of your own`);
  }
  return {
    databaseUrl: readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    host,
    port: readInt(env, 'QUERY_API_PORT', 4001, { min: 0, max: 65535 }),
    merchantJwtKeys: keys,
    usesDevSecret: devSecretIn !== undefined,
    databasePoolSize: readInt(env, 'DATABASE_POOL_SIZE', 8, { min: 1, max: 200 }),
    maxBuckets: readInt(env, 'QUERY_MAX_BUCKETS', 1000, { min: 1, max: 100_000 }),
    maxRangeDays: readInt(env, 'QUERY_MAX_RANGE_DAYS', 400, { min: 1, max: 3660 }),
    maxDepth: readInt(env, 'QUERY_MAX_DEPTH', 15, { min: 2, max: 100 }),
    maxComplexity: readInt(env, 'QUERY_MAX_COMPLEXITY', 500, { min: 10, max: 100_000 }),
    maxAliases: readInt(env, 'QUERY_MAX_ALIASES', 10, { min: 0, max: 1000 }),
    maxBodyBytes: readInt(env, 'MAX_REQUEST_BYTES', 64 * 1024, { min: 1024, max: 16 * 1024 * 1024 }),
    answerCacheBytes: readInt(env, 'QUERY_CACHE_MB', 32, { min: 0, max: 16_384 }) * 1024 * 1024,
  };
}

/** Whether a listen address is reachable from this machine only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
