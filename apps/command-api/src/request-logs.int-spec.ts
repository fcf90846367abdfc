import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducerApp } from '@app/access';
import { loadCommandApiConfig } from '@app/config';
import { createKysely, createPool } from '@app/database';
import { eventually, NatsServerProcess, testDatabase, type TestDatabase } from '@app/testing';
import { startCommandApi } from './bootstrap.js';
import { RECORD_PAYMENT_EVENTS_PATH } from './payments/commands/record-payment-events/record-payment-events.connect.js';
import { completedEvent } from './testing/payment-events.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Issue 12, structured logs: the command API, in process, logs to a stream this spec reads; a
 * request's completion line is a JSON record with the request's id, the one the response
 * returns and every event it stored records.
 */
describe('command API request logs', () => {
  let database: TestDatabase;
  let nats: NatsServerProcess;
  let admin: pg.Pool;
  let app: NestFastifyApplication;
  let url: string;
  let key: string;
  const lines: string[] = [];
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const completions = (reqId: string) => records().filter((r) => r.msg === 'request completed' && r.reqId === reqId);

  beforeAll(async () => {
    database = await testDatabase();
    nats = await NatsServerProcess.start();
    admin = createPool({ connectionString: database.url, max: 2 });
    const db = createKysely(createPool({ connectionString: database.url, max: 1 }));
    ({ key } = await createProducerApp(db, 'log-test'));
    await db.destroy();
    app = await startCommandApi(
      loadCommandApiConfig({ DATABASE_URL: database.url, NATS_URL: nats.url, COMMAND_API_PORT: '0', COMMAND_API_ADMIN_PORT: '0', COMMAND_API_GRPC_PORT: '0' }),
      { logs: { write: (line: string) => void lines.push(line) } },
    );
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    if (process.env.TEST_LOGS === '1') process.stdout.write(lines.join(''));
    await app?.close();
    await admin?.end();
    await nats?.dispose();
    await database?.drop();
  });

  const post = (apiKey: string, headers: Record<string, string> = {}, query = '') => {
    const event = completedEvent();
    const answer = fetch(`${url}${RECORD_PAYMENT_EVENTS_PATH}${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, ...headers },
      body: JSON.stringify({ events: [event] }),
    });
    return { event, answer };
  };

  it('logs a completion line with the X-Request-Id it was sent, returns it, and stores it with the event', async () => {
    const { event, answer } = post(key, { 'x-request-id': 'lb-7f3a:0042' }, '?token=tok3n');
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('lb-7f3a:0042');

    const [line] = await eventually(() => {
      const found = completions('lb-7f3a:0042');
      expect(found).toHaveLength(1);
      return found;
    });
    expect(line).toEqual({
      level: 'info', time: expect.any(String), app: 'command-api', pid: process.pid, reqId: 'lb-7f3a:0042',
      method: 'POST', url: RECORD_PAYMENT_EVENTS_PATH, status: 200, durationMs: expect.any(Number), msg: 'request completed',
    });
    const stored = await admin.query(`select request_id from event_store.events where event_id = $1`, [event.eventId]);
    expect(stored.rows).toEqual([{ request_id: 'lb-7f3a:0042' }]);
  });

  it('logs a refused request under the id it made for it, and never the key or the query string', async () => {
    const { answer } = post('pk_not-a-key', { 'x-request-id': 'bad id with spaces' });
    const res = await answer;
    expect(res.status).toBe(401);
    const reqId = res.headers.get('x-request-id')!;
    expect(reqId).toMatch(UUID);
    const [line] = await eventually(() => {
      const found = completions(reqId);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(line).toMatchObject({ level: 'info', app: 'command-api', method: 'POST', url: RECORD_PAYMENT_EVENTS_PATH, status: 401 });
    const all = lines.join('');
    expect(all).not.toContain(key);
    expect(all).not.toContain('pk_not-a-key');
    expect(all).not.toContain('tok3n');
  });

  it('logs its start as JSON records through Nest', () => {
    const listening = records().filter((r) => r.context === 'CommandApi' && String(r.msg).startsWith('listening on '));
    expect(listening).toEqual([{
      level: 'info', time: expect.any(String), app: 'command-api', pid: process.pid, context: 'CommandApi',
      msg: expect.stringMatching(/^listening on http:\/\/\S+ \(database postgres:\/\/\S+, NATS nats:\/\/\S+\)$/),
    }]);
  });
});
