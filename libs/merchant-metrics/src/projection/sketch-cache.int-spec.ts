import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { testDatabase, type TestDatabase } from '@app/testing';
import { installVersion, CheckpointMovedError, type PaymentEventJson, type PositionedEvent } from '@app/projections';
import { merchantMetricsProjection } from './merchant-metrics.definition.js';
import { SKETCH_TABLES } from '../schema/sketch-tables.js';
import { generateEvents } from '../testing/generated-events.js';
import { dumpSketchTable } from '../testing/read-model-totals.js';
import { applyEvents, type ProjectionTarget } from './apply-events.js';
import { merchantMetricsLogic, PROJECTION_NAME } from './merchant-metrics.projection.js';
import { SketchCache } from './sketch-cache.js';

const PARTITION = 5;
const BATCH = 100;

/** One partition's events: a large merchant (1,500 customers over a day: sparse and dense sketches) among small ones. */
function partitionEvents(): PositionedEvent[] {
  const large: PaymentEventJson[] = Array.from({ length: 2400 }, (_, i) => ({
    eventId: crypto.randomUUID(), merchantId: 'cache-large',
    occurredAt: new Date(Date.UTC(2026, 4, 2) + ((i * 613) % 86_400) * 1000).toISOString(),
    paymentCompleted: {
      paymentId: `lp-${i}`, customerId: `lc-${(i * 7) % 1500}`, storeId: `s-${i % 3}`,
      method: i % 2 === 0 ? 'PAYMENT_METHOD_QR' : 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits: String(300 + (i % 7)) },
    },
  }));
  const small = generateEvents({
    seed: 11, count: 600, merchants: 8, merchantPrefix: 'cache-', customersPerMerchant: 30,
    from: new Date('2026-05-01T00:00:00Z'), to: new Date('2026-05-04T00:00:00Z'),
  });
  // Interleaved, so every batch touches the large merchant's current rows and some small ones.
  const events = large.flatMap((e, i) => (i % 4 === 0 && small[i / 4] ? [e, small[i / 4]] : [e]));
  return events.map((event, i) => ({ position: i + 1, recordedAt: '2026-11-21T00:00:00.000000Z', event }));
}

describe('the projector\'s sketch cache (v3): the same bytes as reading every sketch back', () => {
  const databases: TestDatabase[] = [];
  const pools: pg.Pool[] = [];
  let events: PositionedEvent[];

  async function target(): Promise<{ client: pg.PoolClient; target: ProjectionTarget }> {
    const database = await testDatabase();
    databases.push(database);
    const pool = createPool({ connectionString: database.url, max: 1 });
    pools.push(pool);
    const client = await pool.connect();
    const installed = await installVersion(client, merchantMetricsProjection, { version: 3, partitions: 16, codeRevision: 'cache', engine: 'postgres' });
    return { client, target: { projection: PROJECTION_NAME, version: 3, schemaName: installed.schemaName, engine: 'postgres', logic: merchantMetricsLogic(3) } };
  }

  async function dumpAll(client: pg.PoolClient, schema: string): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const t of SKETCH_TABLES) out[t.name] = await dumpSketchTable(client, schema, t.name);
    return out;
  }

  beforeAll(() => {
    events = partitionEvents();
  });
  afterAll(async () => {
    for (const pool of pools) await pool.end();
    for (const database of databases) await database.drop();
  });

  it('while the cache is trusted, after another writer moved the partition on, and after a refused batch', async () => {
    const reference = await target();
    let checkpoint = 0;
    for (let i = 0; i < events.length; i += BATCH) checkpoint = await applyEvents(reference.client, reference.target, PARTITION, checkpoint, events.slice(i, i + BATCH));
    expect(checkpoint).toBe(events.length);

    const cached = await target();
    const cache = new SketchCache(64 * 1024 * 1024);
    const third = Math.floor(events.length / 3 / BATCH) * BATCH;
    let at = 0;
    for (; at < third; at += BATCH) await applyEvents(cached.client, cached.target, PARTITION, at, events.slice(at, at + BATCH), { sketchCache: cache });
    expect(cache.count).toBeGreaterThan(20);
    // Another process holds the partition for a while: it writes without this cache.
    for (; at < 2 * third; at += BATCH) await applyEvents(cached.client, cached.target, PARTITION, at, events.slice(at, at + BATCH));
    // This process still believes in the checkpoint it left: refused, and its entries dropped.
    await expect(applyEvents(cached.client, cached.target, PARTITION, third, events.slice(third, third + BATCH), { sketchCache: cache }))
      .rejects.toBeInstanceOf(CheckpointMovedError);
    expect(cache.count).toBe(0);
    // It wrote again later from the checkpoint it reads; the cache filled while the other process wrote would be stale.
    for (; at < events.length; at += BATCH) await applyEvents(cached.client, cached.target, PARTITION, at, events.slice(at, at + BATCH), { sketchCache: cache });
    expect(cache.count).toBeGreaterThan(20);

    const expected = await dumpAll(reference.client, reference.target.schemaName);
    expect(expected.totals_daily.some((row) => row.includes('|02'))).toBe(true); // sparse sketches among them (customers come back: unchanged sketches too)
    expect(await dumpAll(cached.client, cached.target.schemaName)).toEqual(expected);
    reference.client.release();
    cached.client.release();
  }, 120_000);

  it('drops a partition\'s entries when they were committed at another checkpoint than the batch starts from', async () => {
    const { client, target: t } = await target();
    const cache = new SketchCache(64 * 1024 * 1024);
    const reference = await target();
    // The cache learns the first 1,000 events' sketches, then a writer that shares no cache writes 1,000 more.
    let checkpoint = 0;
    for (; checkpoint < 1000;) checkpoint = await applyEvents(client, t, PARTITION, checkpoint, events.slice(checkpoint, checkpoint + BATCH), { sketchCache: cache });
    for (; checkpoint < 2000;) checkpoint = await applyEvents(client, t, PARTITION, checkpoint, events.slice(checkpoint, checkpoint + BATCH));
    // Back with the stale cache, from the checkpoint the table holds now.
    checkpoint = await applyEvents(client, t, PARTITION, checkpoint, events.slice(2000), { sketchCache: cache });
    let done = 0;
    while (done < events.length) done = await applyEvents(reference.client, reference.target, PARTITION, done, events.slice(done, done + 500));
    expect(await dumpAll(client, t.schemaName)).toEqual(await dumpAll(reference.client, reference.target.schemaName));
    client.release();
    reference.client.release();
  }, 120_000);

  it('splits a batch of many cells into transactions of at most maxCellsPerTransaction, with the same bytes and refund rule', async () => {
    const sale: PaymentEventJson = {
      eventId: crypto.randomUUID(), merchantId: 'split-m', occurredAt: '2026-05-02T10:05:00Z',
      paymentCompleted: { paymentId: 'split-p', customerId: 'split-c', storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits: '900' } },
    };
    const refund: PaymentEventJson = {
      eventId: crypto.randomUUID(), merchantId: 'split-m', occurredAt: '2026-05-03T08:00:00Z',
      paymentRefunded: { paymentId: 'split-p', refundId: 'split-r', storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits: '300' } },
    };
    // Between them, events of forty small merchants: forty cells, so the refund comes eight transactions after its payment.
    const batch = [sale, ...events.slice(0, 40).map((e) => e.event).map((event, i) => ({ ...event, merchantId: `split-${i}` })), refund]
      .map((event, i) => ({ position: i + 1, recordedAt: '2026-11-21T00:00:00.000000Z', event }));
    const whole = await target();
    const split = await target();
    expect(await applyEvents(whole.client, whole.target, PARTITION, 0, batch)).toBe(batch.length);
    expect(await applyEvents(split.client, split.target, PARTITION, 0, batch, { maxCellsPerTransaction: 5, sketchCache: new SketchCache(1 << 20) }))
      .toBe(batch.length);
    expect(await dumpAll(split.client, split.target.schemaName)).toEqual(await dumpAll(whole.client, whole.target.schemaName));
    const { rows } = await split.client.query(
      `select to_char(bucket at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as bucket, completed_count::int, refund_count::int, refund_amount::text
       from ${split.target.schemaName}.metrics_15m where merchant_id = 'split-m'`);
    expect(rows).toEqual([{ bucket: '2026-05-02 10:00', completed_count: 1, refund_count: 1, refund_amount: '300' }]);
    const { rows: [checkpoint] } = await split.client.query(
      `select position::int, events::int from projections.checkpoints where version = 3 and partition = $1`, [PARTITION]);
    expect(checkpoint).toEqual({ position: batch.length, events: batch.length });
    whole.client.release();
    split.client.release();
  }, 120_000);
});
