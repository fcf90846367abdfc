import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type pg from 'pg';
import { signMerchantToken, type MerchantPrincipal } from '@app/access';
import { createPool } from '@app/database';
import { testDatabase, type TestDatabase } from '@app/testing';
import { AdminListener } from '../admin/admin-listener.js';
import { startQueryApi, type StartOptions } from '../bootstrap.js';
import { loadQueryApiSettings } from '../infrastructure/config.provider.js';

export const TEST_SECRET = 'query-api-test-secret-0123456789abcdef';

export interface GraphqlResponse {
  status: number;
  headers: Headers;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

/** A query API running in this process on its own database. */
export interface QueryApiHarness {
  url: string;
  /** The admin port's base URL (/metrics, /health/details). */
  adminUrl: string;
  database: TestDatabase;
  pool: pg.Pool;
  app: NestFastifyApplication;
  token(principal: MerchantPrincipal, ttlSeconds?: number): Promise<string>;
  /** POSTs a GraphQL request; `token: null` sends no Authorization header. */
  graphql(query: string, variables?: Record<string, unknown>, options?: { token?: string | null; body?: string }): Promise<GraphqlResponse>;
  close(): Promise<void>;
}

export async function startQueryApiHarness(env: Record<string, string> = {}, options: Omit<StartOptions, 'logger'> = {}): Promise<QueryApiHarness> {
  const database = await testDatabase();
  const pool = createPool({ connectionString: database.url, max: 4 });
  const config = loadQueryApiSettings({ DATABASE_URL: database.url, QUERY_API_PORT: '0', QUERY_API_ADMIN_PORT: '0', MERCHANT_JWT_SECRET: TEST_SECRET, ...env });
  const app = await startQueryApi(config, { ...options, logger: process.env.TEST_LOGS === '1' });
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const opsToken = await signMerchantToken(TEST_SECRET, { kind: 'ops' }, { ttlSeconds: 3600 });
  return {
    url,
    adminUrl: app.get(AdminListener).server!.url,
    database,
    pool,
    app,
    token: (principal, ttlSeconds = 3600) => signMerchantToken(TEST_SECRET, principal, { ttlSeconds }),
    async graphql(query, variables, { token = opsToken, body } = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token !== null) headers.authorization = `Bearer ${token}`;
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: body ?? JSON.stringify({ query, variables }) });
      return { status: res.status, headers: res.headers, body: (await res.json()) as GraphqlResponse['body'] };
    },
    async close() {
      await app.close();
      await pool.end();
      await database.drop();
    },
  };
}
