import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMerchantToken } from '@app/access';
import { eventually, testDatabase, type TestDatabase } from '@app/testing';
import { startQueryApi } from './bootstrap.js';
import { loadQueryApiSettings } from './infrastructure/config.provider.js';

const SECRET = 'query-api-log-test-secret-0123456789abcdef';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Issue 12, structured logs: the query API's request lines, read from the stream it logs to. */
describe('query API request logs', () => {
  let database: TestDatabase;
  let app: NestFastifyApplication;
  let url: string;
  const lines: string[] = [];
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const linesOf = (reqId: string) => eventually(() => {
    const found = records().filter((r) => r.reqId === reqId && r.msg === 'request completed');
    expect(found).toHaveLength(1);
    return found;
  });

  beforeAll(async () => {
    database = await testDatabase();
    const config = loadQueryApiSettings({ DATABASE_URL: database.url, QUERY_API_PORT: '0', QUERY_API_ADMIN_PORT: '0', MERCHANT_JWT_SECRET: SECRET });
    app = await startQueryApi(config, { logs: { write: (line: string) => void lines.push(line) } });
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    if (process.env.TEST_LOGS === '1') process.stdout.write(lines.join(''));
    await app?.close();
    await database?.drop();
  });

  const graphql = (headers: Record<string, string>, query = '{ __typename }') =>
    fetch(`${url}/graphql?token=tok3n`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });

  it('logs a completion line with the X-Request-Id it was sent and returns it', async () => {
    const token = await signMerchantToken(SECRET, { kind: 'ops' }, { ttlSeconds: 600 });
    const res = await graphql({ authorization: `Bearer ${token}`, 'x-request-id': 'trace-0af7651916cd43dd' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('trace-0af7651916cd43dd');
    expect(await linesOf('trace-0af7651916cd43dd')).toEqual([{
      level: 'info', time: expect.any(String), app: 'query-api', pid: process.pid, reqId: 'trace-0af7651916cd43dd',
      method: 'POST', url: '/graphql', status: 200, durationMs: expect.any(Number), msg: 'request completed',
    }]);
    expect(lines.join('')).not.toContain(token);
  });

  it('makes an id for a request without a well-formed one, refusals included', async () => {
    const res = await graphql({ 'x-request-id': 'x'.repeat(129) });
    expect(res.status).toBe(401);
    const reqId = res.headers.get('x-request-id')!;
    expect(reqId).toMatch(UUID);
    expect(await linesOf(reqId)).toMatchObject([{ app: 'query-api', method: 'POST', url: '/graphql', status: 401 }]);
    expect(lines.join('')).not.toContain('tok3n');
  });

  it("logs a request's unexpected error with its id", async () => {
    // A real failure of the database: the registry table the resolver reads is gone.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query('alter table projections.live rename to live_gone');
    try {
      const token = await signMerchantToken(SECRET, { kind: 'ops' }, { ttlSeconds: 600 });
      const query = '{ merchantMetrics(merchantId: "m-1", from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z", granularity: DAY) { freshness { lagSeconds } } }';
      const res = await graphql({ authorization: `Bearer ${token}`, 'x-request-id': 'broken-1' }, query);
      expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors.map((e) => e.extensions.code)).toEqual(['INTERNAL_SERVER_ERROR']);
      await linesOf('broken-1');
      expect(records().filter((r) => r.reqId === 'broken-1' && r.level === 'error')).toEqual([{
        level: 'error', time: expect.any(String), app: 'query-api', pid: process.pid, reqId: 'broken-1',
        path: 'merchantMetrics', err: { message: 'relation "projections.live" does not exist' }, msg: 'GraphQL resolver failed',
      }]);
    } finally {
      await admin.query('alter table projections.live_gone rename to live');
      await admin.end();
    }
  });
});
