import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { testDatabase, type TestDatabase } from '@app/testing';
import { CheckpointMovedError, installVersion, PositionGapError, readCheckpoints, type PaymentEventJson, type PositionedEvent } from '@app/projections';
import { merchantMetricsProjection } from './merchant-metrics.definition.js';
import { applyEvents, type ProjectionTarget } from './apply-events.js';
import { merchantMetricsV1, merchantMetricsV2, PROJECTION_NAME } from './merchant-metrics.projection.js';

const completed = (merchantId: string, occurredAt: string, minorUnits: string, customerId: string, storeId = 's-1'): PaymentEventJson => ({
  eventId: crypto.randomUUID(), merchantId, occurredAt,
  paymentCompleted: { paymentId: crypto.randomUUID(), customerId, storeId, method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits } },
});
const refunded = (merchantId: string, occurredAt: string, minorUnits: string): PaymentEventJson => ({
  eventId: crypto.randomUUID(), merchantId, occurredAt,
  paymentRefunded: { paymentId: 'p', refundId: 'r', storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits } },
});
const failed = (merchantId: string, occurredAt: string): PaymentEventJson => ({
  eventId: crypto.randomUUID(), merchantId, occurredAt,
  paymentFailed: { paymentId: 'p', customerId: 'c', storeId: 's-1', method: 'PAYMENT_METHOD_QR', amount: { currency: 'JPY', minorUnits: '5' }, reason: 'declined' },
});
const positioned = (events: PaymentEventJson[], from = 1): PositionedEvent[] =>
  events.map((event, i) => ({ position: from + i, recordedAt: `2026-11-21T00:00:0${i % 10}.000000Z`, event }));

describe('applyEvents (merchant-metrics v1, plain PostgreSQL)', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let client: pg.PoolClient;
  let target: ProjectionTarget;
  const version = 1;

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 4 });
    client = await pool.connect();
    const installed = await installVersion(client, merchantMetricsProjection, { version, partitions: 4, codeRevision: 'test', engine: 'postgres' });
    target = { projection: PROJECTION_NAME, version, schemaName: installed.schemaName, engine: 'postgres', logic: merchantMetricsV1 };
  });
  afterAll(async () => {
    client?.release();
    await pool?.end();
    await database?.drop();
  });

  const rows = async (table: string) =>
    (await pool.query(
      `select merchant_id, to_char(bucket at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI') as bucket, payment_method,
              completed_count::int, gross_amount::text, refund_count::int, refund_amount::text, failed_count::int
       from ${target.schemaName}.${table} order by merchant_id, bucket, payment_method`,
    )).rows;

  it('aggregates a batch into 15-minute cells and rollups, and skips what the checkpoint already holds', async () => {
    // A year old: below the rollup watermark, so the batch writes the rollups too.
    const events = positioned([
      completed('m-a', '2025-11-20T10:00:00Z', '1000', 'c-1'),
      completed('m-a', '2025-11-20T10:14:59.999Z', '250', 'c-1'),
      completed('m-a', '2025-11-20T10:15:00Z', '100', 'c-2'),
      refunded('m-a', '2025-11-20T23:59:00Z', '300'),
      failed('m-a', '2025-11-20T10:05:00Z'),
    ]);
    // Delivered twice and shuffled into overlapping batches, as a redelivering broker would.
    let checkpoint = await applyEvents(client, target, 0, 0, events.slice(0, 3));
    expect(checkpoint).toBe(3);
    checkpoint = await applyEvents(client, target, 0, checkpoint, events.slice(1, 4));
    checkpoint = await applyEvents(client, target, 0, checkpoint, events);
    checkpoint = await applyEvents(client, target, 0, checkpoint, events);
    expect(checkpoint).toBe(5);

    expect(await rows('metrics_15m')).toEqual([
      { merchant_id: 'm-a', bucket: '2025-11-20T10:00', payment_method: 'CARD', completed_count: 2, gross_amount: '1250', refund_count: 0, refund_amount: '0', failed_count: 0 },
      { merchant_id: 'm-a', bucket: '2025-11-20T10:00', payment_method: 'QR', completed_count: 0, gross_amount: '0', refund_count: 0, refund_amount: '0', failed_count: 1 },
      { merchant_id: 'm-a', bucket: '2025-11-20T10:15', payment_method: 'CARD', completed_count: 1, gross_amount: '100', refund_count: 0, refund_amount: '0', failed_count: 0 },
      { merchant_id: 'm-a', bucket: '2025-11-20T23:45', payment_method: 'CARD', completed_count: 0, gross_amount: '0', refund_count: 1, refund_amount: '300', failed_count: 0 },
    ]);
    expect(await rows('metrics_hourly')).toEqual([
      { merchant_id: 'm-a', bucket: '2025-11-20T10:00', payment_method: 'CARD', completed_count: 3, gross_amount: '1350', refund_count: 0, refund_amount: '0', failed_count: 0 },
      { merchant_id: 'm-a', bucket: '2025-11-20T10:00', payment_method: 'QR', completed_count: 0, gross_amount: '0', refund_count: 0, refund_amount: '0', failed_count: 1 },
      { merchant_id: 'm-a', bucket: '2025-11-20T23:00', payment_method: 'CARD', completed_count: 0, gross_amount: '0', refund_count: 1, refund_amount: '300', failed_count: 0 },
    ]);
    expect(await rows('metrics_daily')).toEqual([
      { merchant_id: 'm-a', bucket: '2025-11-20T00:00', payment_method: 'CARD', completed_count: 3, gross_amount: '1350', refund_count: 1, refund_amount: '300', failed_count: 0 },
      { merchant_id: 'm-a', bucket: '2025-11-20T00:00', payment_method: 'QR', completed_count: 0, gross_amount: '0', refund_count: 0, refund_amount: '0', failed_count: 1 },
    ]);
    const customers = await pool.query(
      `select to_char(bucket at time zone 'UTC', 'HH24:MI') as bucket, customer_id from ${target.schemaName}.customers_15m order by 1, 2`,
    );
    expect(customers.rows).toEqual([{ bucket: '10:00', customer_id: 'c-1' }, { bucket: '10:15', customer_id: 'c-2' }]);

    const [p0] = await readCheckpoints(pool, PROJECTION_NAME, version);
    expect(p0).toMatchObject({ partition: 0, position: 5, events: 5 });
    expect(p0.recordedAt?.toISOString()).toBe('2026-11-21T00:00:04.000Z');
  });

  it('refuses a batch that starts past checkpoint + 1, and changes nothing', async () => {
    const events = positioned([completed('m-gap', '2025-11-20T10:00:00Z', '1', 'c')], 3);
    await expect(applyEvents(client, target, 1, 0, events)).rejects.toBeInstanceOf(PositionGapError);
    expect((await readCheckpoints(pool, PROJECTION_NAME, version))[1].position).toBe(0);
  });

  it('refuses to apply when another process moved the checkpoint, and rolls back its writes', async () => {
    const first = positioned([completed('m-race', '2025-11-20T10:00:00Z', '7', 'c')]);
    expect(await applyEvents(client, target, 2, 0, first)).toBe(1);
    // A stale owner still believes the checkpoint is 0.
    await expect(applyEvents(client, target, 2, 0, first)).rejects.toBeInstanceOf(CheckpointMovedError);
    const { rows: cells } = await pool.query(`select completed_count::int from ${target.schemaName}.metrics_15m where merchant_id = 'm-race'`);
    expect(cells).toEqual([{ completed_count: 1 }]);
  });

  it('version 2 finds a refunded payment stored by an earlier batch', async () => {
    const installed = await installVersion(client, merchantMetricsProjection, { version: 2, partitions: 4, codeRevision: 'test', engine: 'postgres' });
    const v2: ProjectionTarget = { projection: PROJECTION_NAME, version: 2, schemaName: installed.schemaName, engine: 'postgres', logic: merchantMetricsV2 };
    const sale = completed('m-v2', '2026-11-16T10:05:00Z', '1000', 'c-1');
    sale.paymentCompleted!.paymentId = 'pay-1';
    const back = refunded('m-v2', '2026-11-23T09:40:00Z', '400');
    back.paymentRefunded!.paymentId = 'pay-1';
    let checkpoint = await applyEvents(client, v2, 3, 0, positioned([sale]));
    checkpoint = await applyEvents(client, v2, 3, checkpoint, positioned([sale, back]));
    expect(checkpoint).toBe(2);
    const { rows: cells } = await pool.query(
      `select to_char(bucket at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI') as bucket, completed_count::int, refund_count::int, refund_amount::text
       from ${installed.schemaName}.metrics_15m where merchant_id = 'm-v2'`,
    );
    expect(cells).toEqual([{ bucket: '2026-11-16T10:00', completed_count: 1, refund_count: 1, refund_amount: '400' }]);
  });

  it('writes ids with quotes, backslashes, commas and braces exactly', async () => {
    const odd = completed('m-"odd\\1', '2025-11-20T10:00:00Z', '5', 'c-"q"\\b', 's,{1} x');
    expect(await applyEvents(client, target, 3, 0, positioned([odd]))).toBe(1);
    const { rows } = await pool.query(
      `select m.merchant_id, m.store_id, c.customer_id from ${target.schemaName}.metrics_15m m
       join ${target.schemaName}.customers_15m c using (merchant_id, bucket, currency, payment_method, store_id)
       where m.merchant_id like 'm-"odd%'`,
    );
    expect(rows).toEqual([{ merchant_id: 'm-"odd\\1', store_id: 's,{1} x', customer_id: 'c-"q"\\b' }]);
  });
});
