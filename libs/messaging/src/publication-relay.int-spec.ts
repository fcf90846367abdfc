import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { headers } from '@nats-io/nats-core';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createPool } from '@app/database';
import { EventStore, readPartition, readPartitionCount } from '@app/event-store';
import { sampleEvent } from '../../event-store/src/testing/sample-events.js';
import { eventually, NatsServerProcess, testDatabase, type TestDatabase } from '@app/testing';
import { batchMessageId, encodeEventBatch } from './event-batch-message.js';
import { NatsConnector } from './nats-connector.js';
import { partitionSubject } from './payments-stream.js';
import { PublicationRelay } from './publication-relay.js';
import { positionsByPartition, readPaymentsStream } from './testing/read-stream.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

describe('publication relay', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let store: EventStore;
  let nats: NatsServerProcess;
  let connector: NatsConnector;
  let relay: PublicationRelay;

  beforeEach(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 10 });
    store = new EventStore(pool, await readPartitionCount(pool));
    nats = await NatsServerProcess.start();
    connector = new NatsConnector(nats.url, 'relay-test', quiet);
    relay = new PublicationRelay(pool, connector, { partitions: store.partitions, batchSize: 7, roundSize: 50, pollIntervalMs: 100, publishTimeoutMs: 2000 }, quiet);
  });
  afterEach(async () => {
    await relay.stop();
    await connector.close();
    await nats.dispose();
    await pool.end();
    await database.drop();
  });

  /** Everything the store holds, per partition. */
  async function storedPositions(): Promise<Map<number, number[]>> {
    const result = new Map<number, number[]>();
    for (let p = 0; p < store.partitions; p++) {
      const rows = await readPartition(pool, p, 0, 100_000);
      if (rows.length > 0) result.set(p, rows.map((r) => r.position));
    }
    return result;
  }

  async function expectStreamToMirrorStore(): Promise<void> {
    const expected = await storedPositions();
    await eventually(async () => {
      const batches = await readPaymentsStream(nats.url);
      expect(positionsByPartition(batches)).toEqual(expected);
    });
  }

  it('publishes every committed event in partition order, batched, with deterministic message ids', async () => {
    connector.start();
    relay.start();
    const events = Array.from({ length: 120 }, (_, i) => sampleEvent({ merchantId: `m-${i % 9}` }));
    for (let i = 0; i < events.length; i += 30) {
      await store.append(events.slice(i, i + 30));
    }
    await expectStreamToMirrorStore();

    const batches = await readPaymentsStream(nats.url);
    for (const batch of batches) {
      expect(batch.subject).toBe(partitionSubject(batch.partition));
      expect(batch.msgId).toBe(`${batch.partition}:${batch.fromPosition}-${batch.toPosition}@${batch.events.at(-1)!.recordedAt}`);
      expect(batch.events.length).toBeLessThanOrEqual(7);
    }
    const ids = batches.flatMap((b) => b.events.map((e) => (e.event as { eventId: string }).eventId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('splits a round of large events into messages under NATS\'s 1 MiB limit, so the partition keeps publishing', async () => {
    await relay.stop();
    relay = new PublicationRelay(pool, connector, { partitions: store.partitions, batchSize: 500, roundSize: 2000, pollIntervalMs: 100, publishTimeoutMs: 5000 }, quiet);
    connector.start();
    relay.start();
    // 1,000 events of one merchant (one partition), about 2.5 KB each: 500 of them make 1.25 MB.
    const events = Array.from({ length: 1000 }, (_, i) => {
      const e = sampleEvent({ merchantId: 'm-large-events' });
      const payload = JSON.parse(e.payloadJson) as { paymentCompleted: { customerId: string; storeId: string } };
      payload.paymentCompleted.customerId = `c-${i}-${'c'.repeat(1200)}`;
      payload.paymentCompleted.storeId = `s-${'s'.repeat(1200)}`;
      const payloadJson = JSON.stringify(payload);
      return { ...e, payloadJson, bodyHash: createHash('sha256').update(payloadJson).digest() };
    });
    for (let i = 0; i < events.length; i += 500) await store.append(events.slice(i, i + 500));
    await expectStreamToMirrorStore();
    const batches = await readPaymentsStream(nats.url);
    expect(batches.flatMap((b) => b.events).length).toBe(1000);
    for (const b of batches) expect(b.bytes).toBeLessThan(1024 * 1024);
    expect(Math.max(...batches.map((b) => b.events.length))).toBeLessThan(500);
  });

  it('keeps storing while NATS is down and publishes everything once it is back', async () => {
    connector.start();
    relay.start();
    await eventually(() => expect(connector.connected).toBe(true));
    await nats.stop();
    await eventually(() => expect(connector.connected).toBe(false));

    for (let i = 0; i < 5; i++) {
      await store.append(Array.from({ length: 20 }, (_, j) => sampleEvent({ merchantId: `m-down-${(i + j) % 5}` })));
    }
    const { rows } = await pool.query<{ n: string }>(`select sum(head - published) n from event_store.partition_heads join event_store.publication_heads using (partition)`);
    expect(Number(rows[0].n)).toBeGreaterThanOrEqual(100);

    await nats.start();
    await expectStreamToMirrorStore();
  });

  it('publishes events committed by a process that died before publishing them', async () => {
    // Nothing relays these appends, as if the process crashed right after commit.
    await store.append(Array.from({ length: 40 }, (_, i) => sampleEvent({ merchantId: `m-crash-${i % 4}` })));
    connector.start();
    relay.start();
    await expectStreamToMirrorStore();
  });

  it('publishes from the in-process fast path, interleaved with commits of other processes', async () => {
    store.onCommitted((runs) => relay.committed(runs));
    const otherProcess = new EventStore(pool, store.partitions);
    connector.start();
    relay.start();
    for (let i = 0; i < 12; i++) {
      const writer = i % 3 === 2 ? otherProcess : store;
      await writer.append(Array.from({ length: 25 }, (_, j) => sampleEvent({ merchantId: `m-fast-${(i + j) % 6}` })));
    }
    await expectStreamToMirrorStore();
    const batches = await readPaymentsStream(nats.url);
    const stored = new Map<number, string>();
    for (let p = 0; p < store.partitions; p++) {
      for (const row of await readPartition(pool, p, 0, 100_000)) stored.set(p * 1e9 + row.position, JSON.parse(row.payloadJson).eventId);
    }
    for (const batch of batches) {
      for (const e of batch.events) expect((e.event as { eventId: string }).eventId).toBe(stored.get(batch.partition * 1e9 + e.position));
    }
  });

  it('does not duplicate a range a crashed relay had published but not recorded', async () => {
    await store.append(Array.from({ length: 10 }, () => sampleEvent({ merchantId: 'm-half' })));
    const p = store.router.partitionOf('m-half');
    const { rows } = await pool.query<{ published: string }>(`select published from event_store.publication_heads where partition = $1`, [p]);
    const unpublished = await readPartition(pool, p, Number(rows[0].published), 7);
    // A previous relay published this exact batch, then died before advancing its head.
    const nc = await connect({ servers: nats.url });
    connector.start();
    await eventually(() => expect(connector.connected).toBe(true));
    const h = headers();
    const from = unpublished[0].position;
    const to = unpublished[unpublished.length - 1].position;
    await jetstream(nc).publish(partitionSubject(p), encodeEventBatch(p, unpublished), { msgID: batchMessageId(p, from, to, unpublished[unpublished.length - 1].recordedAt), headers: h });
    await nc.close();

    relay.start();
    await expectStreamToMirrorStore();
  });
});
