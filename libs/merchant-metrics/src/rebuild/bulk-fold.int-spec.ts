import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { EventStore, partitionOf, readPartition, readPartitionCount } from '@app/event-store';
import { testDatabase, type TestDatabase } from '@app/testing';
import { merchantMetricsDefinition } from '../projection/merchant-metrics.definition.js';
import { applyEvents, type ProjectionTarget } from '../projection/apply-events.js';
import { knownMerchantMetricsVersions, merchantMetricsLogic, PROJECTION_NAME } from '../projection/merchant-metrics.projection.js';
import { type PaymentEventJson, type PositionedEvent, readCheckpoints, installVersion } from '@app/projections';
import { addMissingReadModelKeys, hasReadModelKeys, readModelPartitionsMatch } from '../schema/read-model-tables.js';
import { SKETCH_TABLES, sketchTableColumnList } from '../schema/sketch-tables.js';
import { newEventOf } from '../../../projections/src/testing/new-events.js';
import { generateEvents } from '../testing/generated-events.js';
import { startTimescalePglite, type TimescalePglite } from '../testing/timescale-pglite.js';
import { bulkFoldPartition } from './bulk-fold.js';

const CUSTOMER_SET_TABLES: Record<string, string> = {
  metrics_15m: 'merchant_id, bucket, currency, payment_method, store_id, completed_count, gross_amount, refund_count, refund_amount, failed_count',
  metrics_hourly: 'merchant_id, bucket, currency, payment_method, store_id, completed_count, gross_amount, refund_count, refund_amount, failed_count',
  metrics_daily: 'merchant_id, bucket, currency, payment_method, store_id, completed_count, gross_amount, refund_count, refund_amount, failed_count',
  customers_15m: 'merchant_id, bucket, currency, payment_method, store_id, customer_id',
  payments: 'merchant_id, payment_id, bucket',
  merchant_watermarks: 'merchant_id, partition, position',
};

/** v3's tables, each row with its customer sketch's bytes in hex. */
const SKETCH_LAYOUT_TABLES: Record<string, string> = {
  ...Object.fromEntries(SKETCH_TABLES.map((t) => [t.name, [...sketchTableColumnList(t).filter((c) => c !== 'customers'), `encode(customers, 'hex')`].join(', ')])),
  payments: 'merchant_id, payment_id, bucket',
  merchant_watermarks: 'merchant_id, partition, position',
};

const tablesOf = (logicVersion: number) =>
  merchantMetricsLogic(logicVersion).layout === 'sketches' ? SKETCH_LAYOUT_TABLES : CUSTOMER_SET_TABLES;

/**
 * Merchant `whale`: 5,000 customers paying on one UTC day, 1,000 of them in
 * one hour, so that its sketches take every form (explicit in 15-minute rows,
 * sparse in that hour's, dense in the day's totals) and chunks merge them.
 */
function whaleEvents(): PaymentEventJson[] {
  return Array.from({ length: 5000 }, (_, i) => {
    const minute = i < 1000 ? 600 + (i % 60) : (i * 7) % 1440;
    const at = new Date(Date.UTC(2026, 9, 5) + minute * 60_000 + (i % 60) * 1000).toISOString();
    return {
      eventId: crypto.randomUUID(), merchantId: 'whale', occurredAt: at,
      paymentCompleted: { paymentId: `w-${i}`, customerId: `wc-${i}`, storeId: `s-${i % 3}`, method: card, amount: yen(String(100 + (i % 7))) },
    };
  });
}

const card = 'PAYMENT_METHOD_CARD';
const yen = (minorUnits: string) => ({ currency: 'JPY', minorUnits });
const completedAt = (occurredAt: string, paymentId: string, customerId: string, minorUnits: string): PaymentEventJson => ({
  eventId: crypto.randomUUID(), merchantId: 'edge', occurredAt,
  paymentCompleted: { paymentId, customerId, storeId: 's-1', method: card, amount: yen(minorUnits) },
});
const refundedAt = (occurredAt: string, paymentId: string, minorUnits: string): PaymentEventJson => ({
  eventId: crypto.randomUUID(), merchantId: 'edge', occurredAt,
  paymentRefunded: { paymentId, refundId: `r-${paymentId}-${minorUnits}`, storeId: 's-1', method: card, amount: yen(minorUnits) },
});

/**
 * Merchant `edge`, in this order: a refund stored before its payment, a
 * payment completed twice, refunds of earlier payments, a refund of a payment
 * never seen, and one customer paying twice in a bucket.
 */
const EDGE: PaymentEventJson[] = [
  refundedAt('2026-10-02T09:20:00Z', 'p-late', '30'),
  completedAt('2026-10-01T08:00:00Z', 'p-late', 'c-1', '300'),
  completedAt('2026-10-01T08:05:00Z', 'p-twice', 'c-1', '500'),
  completedAt('2026-10-01T10:40:00Z', 'p-twice', 'c-2', '700'),
  refundedAt('2026-10-03T12:00:00Z', 'p-twice', '50'),
  refundedAt('2026-10-03T12:01:00Z', 'p-late', '20'),
  refundedAt('2026-10-03T12:02:00Z', 'p-unknown', '9'),
];

/** metrics_15m of `edge` as `bucket|completed|gross|refunds|refunded|failed`, written out by hand per version. */
const EDGE_CELLS: Record<number, string[]> = {
  1: [
    '2026-10-01 08:00|2|800|0|0|0',
    '2026-10-01 10:30|1|700|0|0|0',
    '2026-10-02 09:15|0|0|1|30|0',
    '2026-10-03 12:00|0|0|3|79|0',
  ],
  2: [
    // p-twice's first completion (08:05) takes its refund; p-late's second refund follows its payment,
    // its first (stored before the payment) and the unknown one stay where they happened.
    '2026-10-01 08:00|2|800|2|70|0',
    '2026-10-01 10:30|1|700|0|0|0',
    '2026-10-02 09:15|0|0|1|30|0',
    '2026-10-03 12:00|0|0|1|9|0',
  ],
};

describe('bulkFoldPartition: a version folded by PostgreSQL equals the same version applied event by event', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let partitions: number;
  let stored: PaymentEventJson[];

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 4 });
    partitions = await readPartitionCount(pool);
    const store = new EventStore(pool, partitions);
    const generated = generateEvents({
      seed: 7, count: 3000, merchants: 12, merchantPrefix: 'bf-', customersPerMerchant: 20,
      from: new Date('2026-09-01T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z'),
    });
    // Refunds of generated payments, some in later batches than their payment.
    for (let i = 0; i < 1500; i += 25) {
      const sale = generated[i].paymentCompleted;
      if (sale) generated.push({ ...refundedAt('2026-11-02T00:00:00Z', sale.paymentId, '1'), merchantId: generated[i].merchantId });
    }
    stored = [...EDGE, ...generated, ...whaleEvents()];
    for (let i = 0; i < stored.length; i += 500) {
      await store.append(stored.slice(i, i + 500).map(newEventOf));
    }
  }, 60_000);
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  const dump = async (schema: string, logicVersion: number) => {
    const out: Record<string, string[]> = {};
    for (const [table, columns] of Object.entries(tablesOf(logicVersion))) {
      const { rows } = await pool.query(`select concat_ws('|', ${columns}) as row from ${schema}.${table} order by 1`);
      out[table] = rows.map((r) => r.row as string);
    }
    return out;
  };
  const install = async (version: number, logicVersion: number, deferKeys: boolean): Promise<ProjectionTarget> => {
    const client = await pool.connect();
    try {
      const installed = await installVersion(client, merchantMetricsDefinition(() => merchantMetricsLogic(logicVersion)), { version, partitions, codeRevision: 'test', engine: 'postgres', deferKeys });
      return { projection: PROJECTION_NAME, version, schemaName: installed.schemaName, engine: 'postgres', logic: merchantMetricsLogic(logicVersion) };
    } finally {
      client.release();
    }
  };

  it.each(knownMerchantMetricsVersions())('v%i: identical tables (whole partitions, and chunks), and the hand-computed cells of the edge cases', async (logicVersion) => {
    // Event by event: the projector's path, in small batches so payments cross batches (the whale's
    // partition in batches 10 times larger: still 20 of them, each merging into its sketches).
    const applied = await install(100 + logicVersion, logicVersion, false);
    const client = await pool.connect();
    try {
      for (let p = 0; p < partitions; p++) {
        let checkpoint = 0;
        for (;;) {
          const rows = await readPartition(pool, p, checkpoint, p === partitionOf('whale', partitions) ? 250 : 25);
          if (rows.length === 0) break;
          checkpoint = await applyEvents(client, applied, p, checkpoint,
            rows.map((r) => ({ position: r.position, recordedAt: r.recordedAt, event: JSON.parse(r.payloadJson) as PaymentEventJson })));
        }
      }

      const expected = await dump(applied.schemaName, logicVersion);
      expect(expected.metrics_15m.length).toBeGreaterThan(1000);
      const payments = new Set(stored.filter((e) => e.paymentCompleted).map((e) => `${e.merchantId}/${e.paymentCompleted!.paymentId}`));
      expect(expected.payments.length).toBe(merchantMetricsLogic(logicVersion).paymentIndex ? payments.size : 0);

      // Set-based, into tables created without keys: each partition whole, or a first chunk of 40
      // events, then chunks of 33 added to what is there (refunds cross chunks); the keys built by
      // the first chunks, or all at the end (read-model partitions that do not match the store's),
      // then chunks of 150 (a chunk costs about 0.2 s here whatever its size: 33 there too would double
      // the test's time and test nothing more).
      expect(readModelPartitionsMatch(partitions)).toBe(true);
      for (const { offset, first, rest, buildKeys } of [
        { offset: 200, first: 1_000_000, rest: 1_000_000, buildKeys: true },
        { offset: 300, first: 40, rest: 33, buildKeys: true },
        { offset: 400, first: 40, rest: 150, buildKeys: false },
      ]) {
        const folded = await install(offset + logicVersion, logicVersion, true);
        expect(await hasReadModelKeys(client, folded.schemaName)).toBe(false);
        let events = 0;
        // The whale's partition in chunks 30 times larger: still several, each merging into sketches of every form.
        const scale = (p: number) => (p === partitionOf('whale', partitions) ? 30 : 1);
        for (let p = 0; p < partitions; p++) {
          events += (await bulkFoldPartition(client, folded, p, { from: 0, maxEvents: first * scale(p), buildKeys })).events;
        }
        await addMissingReadModelKeys([client], folded.schemaName, 'postgres', folded.logic.layout);
        expect(await hasReadModelKeys(client, folded.schemaName)).toBe(true);
        for (let p = 0; p < partitions; p++) {
          for (let from = (await readCheckpoints(pool, PROJECTION_NAME, folded.version))[p].position; ;) {
            const chunk = await bulkFoldPartition(client, folded, p, { from, maxEvents: rest * scale(p), buildKeys: false });
            events += chunk.events;
            if (chunk.events === 0) break;
            from = chunk.position;
          }
        }
        expect(events).toBe(stored.length);
        expect(await dump(folded.schemaName, logicVersion)).toEqual(expected);
      }

      const { rows } = await pool.query(
        `select concat_ws('|', to_char(bucket at time zone 'UTC', 'YYYY-MM-DD HH24:MI'), completed_count, gross_amount, refund_count, refund_amount, failed_count) as cell
         from ${applied.schemaName}.metrics_15m where merchant_id = 'edge' order by bucket`,
      );
      expect(rows.map((r) => r.cell)).toEqual(EDGE_CELLS[Math.min(logicVersion, 2)]); // v3 counts as v2
      // c-1 once at 08:00 (paid twice there), c-2 at 10:30
      const customers = applied.logic.layout === 'sketches'
        ? `select sum(${applied.schemaName}.sketch_estimate(customers))::int as n from ${applied.schemaName}.metrics_15m where merchant_id = 'edge'`
        : `select count(*)::int as n from ${applied.schemaName}.customers_15m where merchant_id = 'edge'`;
      expect((await pool.query(customers)).rows[0].n).toBe(2);
      if (applied.logic.layout === 'sketches') {
        // The whale's sketches take every form, and the day's totals estimate its 5,000 customers within 3%.
        const { rows: forms } = await pool.query<{ t: string; form: number; n: number }>(
          `select t, get_byte(customers, 0) as form, count(*)::int as n from (
             select 'quarter' as t, customers from ${applied.schemaName}.metrics_15m where merchant_id = 'whale'
             union all select 'hour', customers from ${applied.schemaName}.totals_hourly where merchant_id = 'whale'
             union all select 'day', customers from ${applied.schemaName}.totals_daily where merchant_id = 'whale') x
           group by 1, 2 order by 1, 2`,
        );
        expect(forms.map((f) => `${f.t}:${f.form}`)).toEqual(expect.arrayContaining(['quarter:1', 'hour:1', 'hour:2', 'day:3']));
        const { rows: day } = await pool.query<{ n: number }>(
          `select ${applied.schemaName}.sketch_estimate(customers)::int as n from ${applied.schemaName}.totals_daily where merchant_id = 'whale'`,
        );
        expect(Math.abs(day[0].n - 5000)).toBeLessThan(150);
      }
    } finally {
      client.release();
    }
  }, 240_000);

  it('refuses to fold a partition whose checkpoint has moved, and stores nothing', async () => {
    const target = await install(501, 1, true);
    const client = await pool.connect();
    try {
      const first = await bulkFoldPartition(client, target, 0, { from: 0, maxEvents: 1_000_000, buildKeys: false });
      expect(first.events).toBeGreaterThan(0);
      const before = (await pool.query(`select count(*)::int as n from ${target.schemaName}.metrics_15m`)).rows[0].n;
      await expect(bulkFoldPartition(client, target, 0, { from: 0, maxEvents: 1_000_000, buildKeys: false })).rejects.toThrow(/no longer 0/);
      expect((await pool.query(`select count(*)::int as n from ${target.schemaName}.metrics_15m`)).rows[0].n).toBe(before);
    } finally {
      client.release();
    }
  });
});

describe('bulkFoldPartition on TimescaleDB (PGlite): hypertables and continuous aggregates equal the event-by-event path', () => {
  const PARTITIONS = 16;
  let timescale: TimescalePglite;
  let byPartition: PositionedEvent[][];

  beforeAll(async () => {
    timescale = await startTimescalePglite({ eventStore: true });
    const events = [...EDGE, ...generateEvents({
      seed: 11, count: 1500, merchants: 8, merchantPrefix: 'ts-', customersPerMerchant: 15,
      from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-10-20T00:00:00Z'),
    })];
    byPartition = Array.from({ length: PARTITIONS }, () => []);
    for (const event of events) {
      const p = partitionOf(event.merchantId, PARTITIONS);
      const list = byPartition[p];
      list.push({ position: list.length + 1, recordedAt: '2026-11-21T00:00:00.000000Z', event });
      const type = event.paymentCompleted ? 'payment_completed' : event.paymentFailed ? 'payment_failed' : 'payment_refunded';
      await timescale.client.query(
        `insert into event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, recorded_at, payload)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [p, list.length, event.eventId, event.merchantId, type, event.occurredAt, '2026-11-21T00:00:00Z', JSON.stringify(event)],
      );
    }
  }, 120_000);
  afterAll(async () => {
    await timescale?.close();
  });

  const dumpTs = async (schema: string, logicVersion: number) => {
    const out: Record<string, string[]> = {};
    for (const [table, columns] of Object.entries(tablesOf(logicVersion))) {
      const { rows } = await timescale.client.query<{ row: string }>(
        `select concat_ws('|', ${columns.replace('bucket', `to_char(bucket at time zone 'UTC', 'YYYY-MM-DD HH24:MI')`)}) as row from ${schema}.${table} order by 1`,
      );
      out[table] = rows.map((r) => r.row);
    }
    return out;
  };

  it.each([2, 3])('v%i: identical base tables, customers, payments and rollups', async (logicVersion) => {
    const target = async (version: number): Promise<ProjectionTarget> => {
      const installed = await installVersion(timescale.client, merchantMetricsDefinition(() => merchantMetricsLogic(logicVersion)), { version, partitions: PARTITIONS, codeRevision: 'test', engine: 'timescaledb' });
      return { projection: PROJECTION_NAME, version, schemaName: installed.schemaName, engine: 'timescaledb', logic: merchantMetricsLogic(logicVersion) };
    };
    const applied = await target(100 + logicVersion);
    const folded = await target(200 + logicVersion);
    for (let p = 0; p < PARTITIONS; p++) {
      for (let i = 0, checkpoint = 0; i < byPartition[p].length; i += 7) {
        checkpoint = await applyEvents(timescale.client, applied, p, checkpoint, byPartition[p].slice(i, i + 7));
      }
      // Chunks of 50: the first inserts, the others add to cells already there (refunds cross chunks).
      for (let from = 0; ;) {
        const chunk = await bulkFoldPartition(timescale.client, folded, p, { from, maxEvents: 50, buildKeys: false });
        if (chunk.events === 0) break;
        from = chunk.position;
      }
    }
    const expected = await dumpTs(applied.schemaName, logicVersion);
    expect(expected.metrics_15m.length).toBeGreaterThan(500);
    expect(expected.metrics_daily.length).toBeGreaterThan(50);
    expect(await dumpTs(folded.schemaName, logicVersion)).toEqual(expected);
    const { rows } = await timescale.client.query<{ cell: string }>(
      `select concat_ws('|', to_char(bucket at time zone 'UTC', 'YYYY-MM-DD HH24:MI'), completed_count, gross_amount, refund_count, refund_amount, failed_count) as cell
       from ${applied.schemaName}.metrics_15m where merchant_id = 'edge' order by bucket`,
    );
    expect(rows.map((r) => r.cell)).toEqual(EDGE_CELLS[2]);
  }, 120_000);
});
