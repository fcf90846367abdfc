import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
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
    const details = (await (await fetch(`${api.adminUrl}/health/details`)).json()) as { nats: string };
    expect(details.nats).toBe('disconnected');
    await nats.start();
    await expectStreamToMirrorStore();
  });

  it('drains on SIGTERM: every request in flight is answered and stored, and readiness answers 503 meanwhile', async () => {
    const before = Number((await pool.query(`select count(*) n from event_store.events`)).rows[0].n);
    // Each request sends half its body, then waits: the server has admitted all of them, and is
    // still reading their bodies, when SIGTERM arrives.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const batches = Array.from({ length: 20 }, () => batch(1000));
    const requests = batches.map((events) => {
      const body = Buffer.from(JSON.stringify({ events }));
      const halves = [body.subarray(0, body.length >> 1), body.subarray(body.length >> 1)];
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent++ === 0) return controller.enqueue(halves[0]);
          await released;
          controller.enqueue(halves[1]);
          controller.close();
        },
      });
      return fetch(`${api.url}${PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: stream,
        duplex: 'half',
      } as RequestInit).then(async (res) => ({ status: res.status, body: await res.json() }));
    });
    await eventually(async () => {
      const metrics = await (await fetch(`${api.adminUrl}/metrics`)).text();
      expect(Number(/^command_api_in_flight_requests (\d+)$/m.exec(metrics)?.[1])).toBe(20);
    }, 30_000, 20);

    // A readiness probe whose request is under way when SIGTERM arrives (its connection is not
    // idle, so it survives the listener's close) and that completes during the drain.
    const probe = net.connect(api.port, '127.0.0.1');
    await once(probe, 'connect');
    let probeResponse = '';
    probe.on('data', (chunk: Buffer) => (probeResponse += chunk.toString()));
    const probeEnded = once(probe, 'end');
    probe.write('GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n');

    api.signal('SIGTERM');
    // Draining has begun once new connections are refused: the server stops listening after it
    // marks itself draining, and before it exits, which the held requests prevent.
    const connects = () =>
      new Promise<boolean>((resolve) => {
        const socket = net.connect(api.port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', () => resolve(false));
      });
    await eventually(async () => expect(await connects()).toBe(false), 10_000, 20);
    probe.write('\r\n');
    await probeEnded;
    const [head, probeBody] = probeResponse.split('\r\n\r\n');
    expect(head!.split('\r\n')[0]).toBe('HTTP/1.1 503 Service Unavailable');
    expect(head).toMatch(/^connection: close$/im);
    expect(probeBody).toBe('{"status":"unavailable"}');

    release();
    expect(await Promise.all(requests)).toEqual(batches.map(() => ({ status: 200, body: { accepted: 1000, duplicates: 0 } })));
    const exit = await api.exit;
    expect(exit?.code === 0 || exit?.signal === 'SIGTERM').toBe(true);
    const ids = batches.flat().map((e) => (e as { eventId: string }).eventId);
    expect(Number((await pool.query(`select count(*) n from event_store.events where event_id = any($1::uuid[])`, [ids])).rows[0].n)).toBe(20 * 1000);
    expect(Number((await pool.query(`select count(*) n from event_store.events`)).rows[0].n) - before).toBe(20 * 1000);
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
