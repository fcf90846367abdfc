import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducerApp } from '@app/access';
import { createKysely, createPool } from '@app/database';
import { readPartition, readPartitionCount } from '@app/event-store';
import { eventually, NatsServerProcess, testDatabase, type TestDatabase } from '@app/testing';
import { positionsByPartition, readPaymentsStream } from '../libs/messaging/src/testing/read-stream.js';
import { completedEvent } from '../apps/command-api/src/testing/payment-events.js';
import { AppProcess, COMMAND_API } from './support/app-process.js';

const PATH = '/payments.v1.PaymentEventService/RecordPaymentEvents';

describe('command API process: crashes, outages and shutdown', () => {
  let database: TestDatabase;
  let nats: NatsServerProcess;
  let pool: pg.Pool;
  let key: string;
  let api: AppProcess;

  beforeAll(async () => {
    database = await testDatabase();
    nats = await NatsServerProcess.start();
    pool = createPool({ connectionString: database.url, max: 4 });
    ({ key } = await createProducerApp(createKysely(pool), 'e2e'));
    api = await AppProcess.start(COMMAND_API, { DATABASE_URL: database.url, NATS_URL: nats.url });
  });
  afterAll(async () => {
    await api?.stop();
    await nats?.dispose();
    await pool?.end();
    await database?.drop();
  });

  const send = (events: unknown[]) =>
    fetch(`${api.url}${PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ events }),
    });
  const batch = (n: number) => Array.from({ length: n }, () => completedEvent({ merchantId: `m-${randomUUID().slice(0, 3)}` }));

  /** The stream holds exactly the store's events, each partition in position order, each once. */
  async function expectStreamToMirrorStore(): Promise<void> {
    const partitions = await readPartitionCount(pool);
    const expected = new Map<number, number[]>();
    for (let p = 0; p < partitions; p++) {
      const rows = await readPartition(pool, p, 0, 1_000_000);
      if (rows.length > 0) expected.set(p, rows.map((r) => r.position));
    }
    await eventually(async () => expect(positionsByPartition(await readPaymentsStream(nats.url))).toEqual(expected), 30_000, 200);
  }

  it('loses no event and no publication when killed -9 mid-ingest; retries are answered as duplicates', async () => {
    const sent: unknown[][] = [];
    let killed = false;
    const producer = async () => {
      const failed: unknown[][] = [];
      while (!killed) {
        const events = batch(100);
        sent.push(events);
        const ok = await send(events).then((r) => r.status === 200).catch(() => false);
        if (!ok) failed.push(events);
      }
      return failed;
    };
    const producers = Array.from({ length: 6 }, producer);
    await eventually(async () => expect(Number((await pool.query(`select count(*) n from event_store.events`)).rows[0].n)).toBeGreaterThan(2000), 30_000, 20);
    api.signal('SIGKILL');
    killed = true;
    const failed = (await Promise.all(producers)).flat();
    expect((await api.exit)?.signal).toBe('SIGKILL');

    await api.start();
    // A producer retries what got no answer; whatever was committed before the kill is a duplicate now.
    for (const events of failed) expect((await send(events)).status).toBe(200);

    const ids = sent.flat().map((e) => (e as { eventId: string }).eventId);
    const { rows } = await pool.query<{ n: string }>(`select count(*) n from event_store.events where event_id = any($1::uuid[])`, [ids]);
    expect(Number(rows[0].n)).toBe(ids.length);
    await expectStreamToMirrorStore();
  });

  it('keeps accepting while NATS is down and publishes everything once it is back', async () => {
    await nats.stop();
    for (let i = 0; i < 5; i++) expect(await (await send(batch(200))).json()).toEqual({ accepted: 200, duplicates: 0 });
    const ready = (await (await fetch(`${api.url}/health/ready`)).json()) as { nats: string };
    expect(ready.nats).toBe('disconnected');
    await nats.start();
    await expectStreamToMirrorStore();
  });

  it('drains in-flight requests on SIGTERM: each admitted request is answered, none half-done', async () => {
    const before = Number((await pool.query(`select count(*) n from event_store.events`)).rows[0].n);
    const requests = Array.from({ length: 30 }, () =>
      send(batch(1000)).then((res) => res.status).catch(() => 'connection error' as const),
    );
    // Signal only once the server itself reports most requests in flight.
    await eventually(async () => {
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      expect(Number(/^command_api_in_flight_requests (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(10);
    }, 30_000, 5);
    api.signal('SIGTERM');
    const outcomes = await Promise.all(requests);
    const answered = outcomes.filter((o) => o === 200).length;
    expect(answered).toBeGreaterThanOrEqual(10);
    // Nothing else: no 5xx, no refusal of an admitted request.
    expect(outcomes.filter((o) => o !== 200 && o !== 'connection error')).toEqual([]);
    const exit = await api.exit;
    expect(exit?.code === 0 || exit?.signal === 'SIGTERM').toBe(true);
    // Every answered request is stored, and no unanswered request was stored half-way or whole.
    const after = Number((await pool.query(`select count(*) n from event_store.events`)).rows[0].n);
    expect(after - before).toBe(answered * 1000);
  });

  it('runs several workers on one port with COMMAND_API_WORKERS, and stops them all on SIGTERM', async () => {
    const before = Number((await pool.query(`select count(*) n from event_store.events`)).rows[0].n);
    api = await AppProcess.start(COMMAND_API, { DATABASE_URL: database.url, NATS_URL: nats.url, COMMAND_API_WORKERS: '2' });
    const answers = await Promise.all(Array.from({ length: 8 }, async () => (await send(batch(100))).json()));
    expect(answers).toEqual(new Array(8).fill({ accepted: 100, duplicates: 0 }));
    expect(Number((await pool.query(`select count(*) n from event_store.events`)).rows[0].n) - before).toBe(800);
    await expectStreamToMirrorStore();
    api.signal('SIGTERM');
    expect((await api.exit)?.code).toBe(0);
  });
});
