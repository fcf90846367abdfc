import { describe, expect, it } from 'vitest';
import { DEV_MERCHANT_JWT_SECRET } from './merchant-jwt-keys.js';
import { loadQueryApiConfig } from './query-api.config.js';

const DATABASE_URL = 'postgres://u:p@127.0.0.1:5432/db';

describe('query API configuration', () => {
  it('has documented defaults, with the development secret outside production', () => {
    const config = loadQueryApiConfig({ DATABASE_URL });
    expect(config).toEqual({
      databaseUrl: DATABASE_URL,
      host: '127.0.0.1',
      port: 4001,
      merchantJwtKeys: new Map([['default', DEV_MERCHANT_JWT_SECRET]]),
      usesDevSecret: true,
      databasePoolSize: 8,
      maxBuckets: 1000,
      maxRangeDays: 400,
      maxDepth: 15,
      maxComplexity: 500,
      maxAliases: 10,
      maxBodyBytes: 65536,
      answerCacheBytes: 32 * 1024 * 1024,
    });
    expect(loadQueryApiConfig({ DATABASE_URL, QUERY_CACHE_MB: '0' }).answerCacheBytes).toBe(0);
    expect(() => loadQueryApiConfig({ DATABASE_URL, QUERY_CACHE_MB: '-1' })).toThrow('QUERY_CACHE_MB');
  });

  it('refuses to run production without a secret of its own, or with a short one anywhere', () => {
    expect(() => loadQueryApiConfig({ DATABASE_URL, NODE_ENV: 'production' })).toThrow(
      'MERCHANT_JWT_SECRET or MERCHANT_JWT_KEYS is required but not set (NODE_ENV=production)',
    );
    expect(() => loadQueryApiConfig({ DATABASE_URL, NODE_ENV: 'production', MERCHANT_JWT_SECRET: DEV_MERCHANT_JWT_SECRET })).toThrow(
      'MERCHANT_JWT_SECRET is the public development default',
    );
    for (const published of ['compose-dev-only-merchant-jwt-secret', 'query-api-test-secret-0123456789abcdef']) {
      expect(() => loadQueryApiConfig({ DATABASE_URL, NODE_ENV: 'production', MERCHANT_JWT_SECRET: published })).toThrow(
        'MERCHANT_JWT_SECRET is a secret published in the repository',
      );
    }
    expect(() => loadQueryApiConfig({ DATABASE_URL, MERCHANT_JWT_SECRET: 'too-short' })).toThrow('MERCHANT_JWT_SECRET must be at least 32 characters long');
    const secret = 'x'.repeat(32);
    expect(loadQueryApiConfig({ DATABASE_URL, NODE_ENV: 'production', MERCHANT_JWT_SECRET: secret })).toMatchObject({ merchantJwtKeys: new Map([['default', secret]]), usesDevSecret: false });
  });

  it('refuses the development secret when the API listens beyond loopback', () => {
    for (const HOST of ['0.0.0.0', '::', '10.1.2.3', 'api.example.com']) {
      expect(() => loadQueryApiConfig({ DATABASE_URL, HOST })).toThrow(`while HOST=${HOST} is reachable from other machines`);
      expect(loadQueryApiConfig({ DATABASE_URL, HOST, MERCHANT_JWT_SECRET: 'y'.repeat(32) }).host).toBe(HOST);
    }
    for (const HOST of ['127.0.0.1', '127.0.0.2', 'localhost', '::1']) expect(loadQueryApiConfig({ DATABASE_URL, HOST }).usesDevSecret).toBe(true);
    // The development secret as one key of several is refused just the same.
    const MERCHANT_JWT_KEYS = `k1:${'y'.repeat(32)},k2:${DEV_MERCHANT_JWT_SECRET}`;
    expect(() => loadQueryApiConfig({ DATABASE_URL, HOST: '0.0.0.0', MERCHANT_JWT_KEYS })).toThrow(
      'MERCHANT_JWT_KEYS key "k2" is the public development default while HOST=0.0.0.0 is reachable from other machines',
    );
    expect(loadQueryApiConfig({ DATABASE_URL, MERCHANT_JWT_KEYS })).toMatchObject({ usesDevSecret: true });
  });

  it('names the variable when a value is out of bounds', () => {
    expect(() => loadQueryApiConfig({ DATABASE_URL, QUERY_API_PORT: 'x' })).toThrow('QUERY_API_PORT must be an integer, got "x"');
    expect(() => loadQueryApiConfig({ DATABASE_URL, QUERY_MAX_COMPLEXITY: '5' })).toThrow('QUERY_MAX_COMPLEXITY must be between 10 and 100000, got 5');
    expect(() => loadQueryApiConfig({})).toThrow('DATABASE_URL is required but not set');
  });
});
