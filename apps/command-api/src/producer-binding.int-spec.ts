import { randomBytes, randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducerApp } from '@app/access';
import { loadCommandApiConfig } from '@app/config';
import { createKysely, createPool, ensureMemberLogin, type Database } from '@app/database';
import { eventually, NatsServerProcess, testDatabase, type TestDatabase } from '@app/testing';
import { appsCommands } from '../../ops/src/apps.command.js';
import { resolveCommand, UsageError, type OpsContext } from '../../ops/src/cli.js';
import { startCommandApi } from './bootstrap.js';
import { RECORD_PAYMENT_EVENTS_PATH } from './payments/commands/record-payment-events/record-payment-events.connect.js';
import { completedEvent } from './testing/payment-events.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Issue 12, point 8: every stored event records the app and the request that
 * sent it, and an app restricted to merchants cannot submit for others. The
 * command API runs in process and logs in as a member of payments_writer, as
 * `npm start` and compose run it.
 */
describe('producer apps bound to merchants; events record their app and request', () => {
  let database: TestDatabase;
  let nats: NatsServerProcess;
  let admin: pg.Pool;
  let db: Kysely<Database>;
  let app: NestFastifyApplication;
  let url: string;
  const writerRole = `writer_${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    database = await testDatabase();
    nats = await NatsServerProcess.start();
    admin = createPool({ connectionString: database.url, max: 2 });
    db = createKysely(createPool({ connectionString: database.url, max: 2 }));
    const writerUrl = await ensureMemberLogin(database.url, { role: writerRole, password: randomBytes(12).toString('hex'), memberOf: 'payments_writer' });
    app = await startCommandApi(
      loadCommandApiConfig({ DATABASE_URL: writerUrl, NATS_URL: nats.url, COMMAND_API_PORT: '0', COMMAND_API_ADMIN_PORT: '0', COMMAND_API_GRPC_PORT: '0' }),
      { logger: process.env.TEST_LOGS === '1' },
    );
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app?.close();
    await admin?.query(`drop role if exists ${writerRole}`).catch(() => undefined);
    await db?.destroy();
    await admin?.end();
    await nats?.dispose();
    await database?.drop();
  });

  const post = (key: string, events: Array<Record<string, unknown>>, headers: Record<string, string> = {}) =>
    fetch(`${url}${RECORD_PAYMENT_EVENTS_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
      body: JSON.stringify({ events }),
    });

  const stored = async (events: Array<Record<string, unknown>>) =>
    (
      await admin.query<{ event_id: string; producer_app_id: string | null; request_id: string | null }>(
        `select event_id, producer_app_id, request_id from event_store.events where event_id = any($1::uuid[]) order by event_id`,
        [events.map((e) => e.eventId)],
      )
    ).rows;
  const claimed = async (events: Array<Record<string, unknown>>) =>
    Number((await admin.query(`select count(*) n from event_store.event_ids where event_id = any($1::uuid[])`, [events.map((e) => e.eventId)])).rows[0].n);
  const rowsFor = (events: Array<Record<string, unknown>>, producerAppId: string, requestId: string) =>
    events
      .map((e) => ({ event_id: e.eventId as string, producer_app_id: producerAppId, request_id: requestId }))
      .sort((a, b) => a.event_id.localeCompare(b.event_id));

  /** Runs an ops command as main.ts does, minus the process. */
  const ops = async (...argv: string[]): Promise<string[]> => {
    const lines: string[] = [];
    const context: OpsContext = { db: async () => db, databaseUrl: () => database.url, out: (line) => lines.push(line) };
    const { command, args, options } = resolveCommand([appsCommands], ['apps', ...argv]);
    await command.run(context, args, options);
    return lines;
  };

  describe('each stored event records its app and request', () => {
    it('records the X-Request-Id the caller sent, and returns it', async () => {
      const producer = await createProducerApp(db, `rec-${randomUUID().slice(0, 8)}`);
      const events = [completedEvent({ merchantId: 'm-rec-1' }), completedEvent({ merchantId: 'm-rec-2' }), completedEvent({ merchantId: 'm-rec-3' })];
      const res = await post(producer.key, events, { 'x-request-id': 'lb-7f3a:0042' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ accepted: 3, duplicates: 0 });
      expect(res.headers.get('x-request-id')).toBe('lb-7f3a:0042');
      expect(await stored(events)).toEqual(rowsFor(events, producer.appId, 'lb-7f3a:0042'));
    });

    it('gives a request without X-Request-Id a fresh UUID, returns it and records it', async () => {
      const producer = await createProducerApp(db, `rec-${randomUUID().slice(0, 8)}`);
      const events = [completedEvent({ merchantId: 'm-rec-1' }), completedEvent({ merchantId: 'm-rec-4' })];
      const res = await post(producer.key, events);
      expect(res.status).toBe(200);
      const requestId = res.headers.get('x-request-id')!;
      expect(requestId).toMatch(UUID);
      expect(await stored(events)).toEqual(rowsFor(events, producer.appId, requestId));

      const again = await post(producer.key, [completedEvent()]);
      expect(again.headers.get('x-request-id')).toMatch(UUID);
      expect(again.headers.get('x-request-id')).not.toBe(requestId);
    });

    it('replaces an X-Request-Id that is too long or not a plain token with a fresh one', async () => {
      const producer = await createProducerApp(db, `rec-${randomUUID().slice(0, 8)}`);
      for (const given of ['a'.repeat(129), 'two words', 'x"; drop', 'tab\there']) {
        const events = [completedEvent({ merchantId: 'm-rec-5' })];
        const res = await post(producer.key, events, { 'x-request-id': given });
        expect(res.status).toBe(200);
        const requestId = res.headers.get('x-request-id')!;
        expect(requestId, given).toMatch(UUID);
        expect(await stored(events)).toEqual(rowsFor(events, producer.appId, requestId));
      }
      const longest = 'b'.repeat(128);
      const events = [completedEvent({ merchantId: 'm-rec-5' })];
      expect((await post(producer.key, events, { 'x-request-id': longest })).headers.get('x-request-id')).toBe(longest);
      expect(await stored(events)).toEqual(rowsFor(events, producer.appId, longest));
    });

    it('returns the request id on a refused request too', async () => {
      const res = await post('pk_not-a-key', [completedEvent()], { 'x-request-id': 'refused-1' });
      expect(res.status).toBe(401);
      expect(res.headers.get('x-request-id')).toBe('refused-1');
    });

    it('keeps each request its own app and id when concurrent requests are stored in one transaction', async () => {
      const producers = await Promise.all([1, 2, 3, 4].map(() => createProducerApp(db, `rec-${randomUUID().slice(0, 8)}`)));
      const batches = producers.map((_, i) => Array.from({ length: 200 }, (_, j) => completedEvent({ merchantId: `m-group-${(i * 7 + j) % 23}` })));
      const answers = await Promise.all(producers.map((p, i) => post(p.key, batches[i], { 'x-request-id': `group-${i}` })));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
      for (const [i, p] of producers.entries()) expect(await stored(batches[i])).toEqual(rowsFor(batches[i], p.appId, `group-${i}`));
    });
  });

  describe('an app restricted to merchants', () => {
    it('is refused whole, with nothing stored, for an event of another merchant; accepted for its own', async () => {
      const name = `pos-${randomUUID().slice(0, 8)}`;
      const producer = await createProducerApp(db, name, { merchantIds: ['m-own-1', 'm-own-2'] });
      const mixed = [completedEvent({ merchantId: 'm-own-1' }), completedEvent({ merchantId: 'm-other' }), completedEvent({ merchantId: 'm-own-2' })];
      const refused = await post(producer.key, mixed);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toEqual({
        code: 'permission_denied',
        message: `producer app "${name}" may not submit events for merchant "m-other"; nothing was stored (an operator sets its merchants: ops apps restrict)`,
      });
      expect(await stored(mixed)).toEqual([]);
      expect(await claimed(mixed)).toBe(0);

      const own = [completedEvent({ merchantId: 'm-own-2' }), completedEvent({ merchantId: 'm-own-1' })];
      const accepted = await post(producer.key, own, { 'x-request-id': 'own-1' });
      expect(accepted.status).toBe(200);
      expect(await accepted.json()).toEqual({ accepted: 2, duplicates: 0 });
      expect(await stored(own)).toEqual(rowsFor(own, producer.appId, 'own-1'));
    });

    it('names at most five refused merchants and counts the rest', async () => {
      const name = `pos-${randomUUID().slice(0, 8)}`;
      const producer = await createProducerApp(db, name, { merchantIds: ['m-own-1'] });
      const events = ['m-x1', 'm-own-1', 'm-x2', 'm-x1', 'm-x3', 'm-x4', 'm-x5', 'm-x6', 'm-x7'].map((merchantId) => completedEvent({ merchantId }));
      const refused = await post(producer.key, events);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { message: string }).message).toBe(
        `producer app "${name}" may not submit events for merchants "m-x1", "m-x2", "m-x3", "m-x4", "m-x5" and 2 more; ` +
          'nothing was stored (an operator sets its merchants: ops apps restrict)',
      );
      expect(await claimed(events)).toBe(0);
    });

    it('follows a restriction set by the ops CLI within a second, although the process had the key cached for 30 s', async () => {
      const name = `pos-${randomUUID().slice(0, 8)}`;
      const created = await ops('create', name);
      expect(created[0]).toMatch(new RegExp(`^created producer app "${name}" \\(id [0-9a-f-]{36}\\), for any merchant$`));
      const key = created.at(-1)!;
      const forMerchant = (merchantId: string) => post(key, [completedEvent({ merchantId })]).then((r) => r.status);
      // Accepted, and so cached.
      expect(await forMerchant('m-b')).toBe(200);

      expect(await ops('restrict', name, '--merchants', 'm-a')).toEqual([`producer app "${name}" now submits events for merchant m-a only`]);
      const restrictedAt = Date.now();
      await eventually(async () => expect(await forMerchant('m-b')).toBe(403), 5000, 20);
      expect(Date.now() - restrictedAt).toBeLessThan(1000);
      expect(await forMerchant('m-a')).toBe(200);

      expect(await ops('restrict', name, '--any')).toEqual([`producer app "${name}" now submits events for any merchant`]);
      const liftedAt = Date.now();
      await eventually(async () => expect(await forMerchant('m-b')).toBe(200), 5000, 20);
      expect(Date.now() - liftedAt).toBeLessThan(1000);
    });
  });

  describe('ops apps', () => {
    it('create --merchants stores the list, and list shows it', async () => {
      const name = `ops-${randomUUID().slice(0, 8)}`;
      const created = await ops('create', name, '--merchants', 'm-1, m-2,m-1,,m-3');
      expect(created[0]).toMatch(new RegExp(`\\), for 3 merchants m-1,m-2,m-3 only$`));
      const { rows } = await admin.query('select merchant_ids from access.producer_apps where name = $1', [name]);
      expect(rows).toEqual([{ merchant_ids: ['m-1', 'm-2', 'm-3'] }]);

      const many = Array.from({ length: 7 }, (_, i) => `m-${i}`).join(',');
      await ops('restrict', name, '--merchants', many);
      const line = (await ops('list')).find((l) => l.startsWith(`${name} `))!;
      expect(line).toMatch(/\s+active\s+.+\s+[0-9a-f-]{36}  m-0,m-1,m-2,m-3,m-4,… \(7\)$/);
    });

    it('refuses a list that is empty, too long or has an invalid id, and changes nothing', async () => {
      const name = `ops-${randomUUID().slice(0, 8)}`;
      await ops('create', name, '--merchants', 'm-1');
      const tooMany = Array.from({ length: 1001 }, (_, i) => `m-${i}`).join(',');
      await expect(ops('restrict', name, '--merchants', tooMany)).rejects.toThrow('1001 merchant ids given; an app may be restricted to at most 1000');
      await expect(ops('restrict', name, '--merchants', ' , ')).rejects.toThrow('no merchant ids given: list them separated by commas, e.g. m-1001,m-1002');
      await expect(ops('restrict', name, '--merchants', 'm-1,bad id')).rejects.toThrow(
        'invalid merchant id "bad id": use 1 to 64 characters of A-Z, a-z, 0-9, ".", "_", ":", "-"',
      );
      await expect(ops('create', `${name}-b`, '--merchants', tooMany)).rejects.toThrow('1001 merchant ids given');
      await expect(ops('restrict', name, '--merchants', 'm-2', '--any')).rejects.toThrow(UsageError);
      await expect(ops('restrict', name)).rejects.toThrow(UsageError);
      await expect(ops('restrict', `${name}-missing`, '--any')).rejects.toThrow(`no active producer app named "${name}-missing"`);
      const { rows } = await admin.query('select name, merchant_ids from access.producer_apps where name like $1', [`${name}%`]);
      expect(rows).toEqual([{ name, merchant_ids: ['m-1'] }]);
      // The database holds the same bound, whoever writes.
      await expect(admin.query('update access.producer_apps set merchant_ids = $1 where name = $2', [tooMany.split(','), name])).rejects.toThrow(
        /producer_apps_merchant_ids_bounded/,
      );
    });
  });
});
