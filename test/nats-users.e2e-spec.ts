import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducerApp } from '@app/access';
import { createKysely, createPool } from '@app/database';
import { natsConnectOptions, newNatsPassword, PAYMENTS_STREAM } from '@app/messaging';
import { eventually, NatsServerProcess, testDatabase, type TestDatabase } from '@app/testing';
import { sendEvents } from '../apps/projector/src/testing/send-events.js';
import { asStoredTotals, expectedTotals, generateEvents, readModelTotals } from '../libs/merchant-metrics/src/testing/index.js';
import { AppProcess, COMMAND_API, PROJECTOR } from './support/app-process.js';

const failure = (promise: Promise<unknown>) => promise.then(() => 'succeeded', (error: Error) => error.message);

/**
 * NATS as `npm start` and compose run it (deploy/nats-server.conf): no anonymous clients, the command
 * API's user publishes events and manages the stream, the projector's user only consumes.
 */
describe('NATS users: the command API may publish, the projector may only consume', () => {
  let database: TestDatabase;
  let nats: NatsServerProcess;
  let pool: pg.Pool;
  let commandApi: AppProcess;
  let projector: AppProcess;
  let key: string;

  beforeAll(async () => {
    database = await testDatabase();
    nats = await NatsServerProcess.start({ users: { 'command-api': newNatsPassword(), projector: newNatsPassword() } });
    pool = createPool({ connectionString: database.url, max: 2 });
    ({ key } = await createProducerApp(createKysely(pool), 'nats-users'));
    commandApi = await AppProcess.start(COMMAND_API, { DATABASE_URL: database.url, NATS_URL: nats.urlFor('command-api') });
    projector = await AppProcess.start(PROJECTOR, { DATABASE_URL: database.url, NATS_URL: nats.urlFor('projector') });
  });
  afterAll(async () => {
    await projector?.stop();
    await commandApi?.stop();
    await pool?.end();
    await nats?.dispose();
    await database?.drop();
  });

  it('refuses a client without a user, or with a wrong password', async () => {
    expect(await failure(connect({ servers: nats.url, timeout: 2000 }))).toMatch(/authorization/i);
    const wrong = nats.urlFor('projector').replace(/:n[0-9a-f]+@/, ':wrong@');
    expect(await failure(connect({ ...natsConnectOptions(wrong), timeout: 2000 }))).toMatch(/authorization/i);
  });

  it('carries events end to end under those users', async () => {
    const window = { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-10-08T00:00:00Z') };
    const events = generateEvents({ seed: 31, count: 400, merchants: 4, merchantPrefix: 'nu-', ...window });
    expect(await sendEvents(commandApi.url, key, events, 200)).toBe(400);
    const expected = asStoredTotals(expectedTotals(events));
    await eventually(async () => expect(await readModelTotals(pool, 'rm_merchant_metrics_v3', 'nu-')).toEqual(expected), 30_000);
    // Through the stream, not only the store: the projector's consumers exist and have delivered.
    const nc = await connect({ ...natsConnectOptions(nats.urlFor('projector')) });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 1500 });
      const stream = await jsm.streams.info(PAYMENTS_STREAM);
      expect(stream.state.messages).toBeGreaterThan(0);
    } finally {
      await nc.close();
    }
  });

  it("the projector's user cannot publish events, nor delete or purge the stream", async () => {
    const nc = await connect({ ...natsConnectOptions(nats.urlFor('projector')) });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 1500 });
      const before = (await jsm.streams.info(PAYMENTS_STREAM)).state.messages;
      expect(await failure(jetstream(nc).publish('payments.events.0', new Uint8Array([123, 125]), { timeout: 1500 }))).not.toBe('succeeded');
      expect(await failure(jsm.streams.purge(PAYMENTS_STREAM))).not.toBe('succeeded');
      expect(await failure(jsm.streams.delete(PAYMENTS_STREAM))).not.toBe('succeeded');
      expect((await jsm.streams.info(PAYMENTS_STREAM)).state.messages).toBe(before);
    } finally {
      await nc.close();
    }
  });

  it("the command API's user cannot delete or purge the stream, nor read it through a consumer of its own", async () => {
    const nc = await connect({ ...natsConnectOptions(nats.urlFor('command-api')) });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 1500 });
      const before = (await jsm.streams.info(PAYMENTS_STREAM)).state.messages;
      expect(await failure(jsm.streams.purge(PAYMENTS_STREAM))).not.toBe('succeeded');
      expect(await failure(jsm.streams.delete(PAYMENTS_STREAM))).not.toBe('succeeded');
      expect(await failure(jsm.consumers.add(PAYMENTS_STREAM, { durable_name: 'spy', ack_policy: AckPolicy.Explicit }))).not.toBe('succeeded');
      expect((await jsm.streams.info(PAYMENTS_STREAM)).state.messages).toBe(before);
    } finally {
      await nc.close();
    }
  });
});
