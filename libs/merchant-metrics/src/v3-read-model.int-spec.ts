import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { partitionOf } from '@app/event-store';
import { SKETCH_STANDARD_ERROR } from '@app/sketches';
import { testDatabase, type TestDatabase } from '@app/testing';
import { merchantMetricsProjection } from './projection/merchant-metrics.definition.js';
import { applyEvents, type ProjectionTarget } from './projection/apply-events.js';
import { merchantMetricsLogic, PROJECTION_NAME } from './projection/merchant-metrics.projection.js';
import { type PaymentEventJson, type PositionedEvent, installVersion, readEngine, type SqlClient } from '@app/projections';
import { readMetrics } from './query/metrics-reader.js';
import type { Comparison, Dimension, Granularity, MetricsQuery } from './query/metrics-query.js';
import { SKETCH_TABLES } from './schema/sketch-tables.js';
import { expectedTotals, generateEvents } from './testing/generated-events.js';
import { dumpSketchTable } from './testing/read-model-totals.js';
import { startTimescalePglite, type TimescalePglite } from './testing/timescale-pglite.js';

const PARTITIONS = 16;

/** 3,000 customers of merchant `v3-whale` over three days: sketches past the explicit form. */
function whale(): PaymentEventJson[] {
  return Array.from({ length: 4000 }, (_, i) => ({
    eventId: crypto.randomUUID(), merchantId: 'v3-whale',
    occurredAt: new Date(Date.UTC(2026, 2, 8) + ((i * 977) % (3 * 86_400)) * 1000).toISOString(),
    paymentCompleted: {
      paymentId: `wp-${i}`, customerId: `wc-${i % 3000}`, storeId: `s-${i % 4}`,
      method: i % 3 === 0 ? 'PAYMENT_METHOD_QR' : 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits: String(500 + (i % 11)) },
    },
  }));
}

async function project(client: SqlClient, target: ProjectionTarget, events: PositionedEvent[][]): Promise<void> {
  for (let p = 0; p < PARTITIONS; p++) {
    let checkpoint = 0;
    const all = events[p];
    for (let i = 0; i < all.length; i += 250) checkpoint = await applyEvents(client, target, p, checkpoint, all.slice(i, i + 250));
    await applyEvents(client, target, p, checkpoint, all); // a replay changes nothing
  }
}

const dump = dumpSketchTable;

describe('merchant-metrics v3 (sketches): both engines, against v2 and against the events', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let postgres: pg.PoolClient;
  let timescale: TimescalePglite;
  let events: PaymentEventJson[];

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
    postgres = await pool.connect();
    timescale = await startTimescalePglite();
    events = [
      ...generateEvents({
        seed: 5, count: 3000, merchants: 20, merchantPrefix: 'v3-', customersPerMerchant: 40,
        from: new Date('2026-02-20T00:00:00Z'), to: new Date('2026-04-10T00:00:00Z'),
      }),
      ...whale(),
    ];
    const byPartition: PositionedEvent[][] = Array.from({ length: PARTITIONS }, () => []);
    for (const event of events) {
      const list = byPartition[partitionOf(event.merchantId, PARTITIONS)];
      list.push({ position: list.length + 1, recordedAt: '2026-11-21T00:00:00.000000Z', event });
    }
    for (const [client, versions] of [[postgres, [2, 3]], [timescale.client, [3]]] as const) {
      const engine = await readEngine(client);
      for (const version of versions) {
        const installed = await installVersion(client, merchantMetricsProjection, { version, partitions: PARTITIONS, codeRevision: 'v3', engine });
        await project(client, { projection: PROJECTION_NAME, version, schemaName: installed.schemaName, engine, logic: merchantMetricsLogic(version) }, byPartition);
      }
    }
  }, 180_000);
  afterAll(async () => {
    postgres?.release();
    await pool?.end();
    await timescale?.close();
    await database?.drop();
  });

  it.each(SKETCH_TABLES.map((t) => t.name))('holds the same %s, sketches byte for byte, on PostgreSQL and TimescaleDB', async (table) => {
    const expected = await dump(postgres, 'rm_merchant_metrics_v3', table);
    expect(expected.length).toBeGreaterThan(20);
    expect(await dump(timescale.client, 'rm_merchant_metrics_v3', table)).toEqual(expected);
  });

  it('holds per merchant and currency the totals computed from the events', async () => {
    const expected = expectedTotals(events);
    const { rows } = await postgres.query<{ key: string; completed: string; gross: string; refunds: string; refunded: string; failed: string; customers: string; exact: boolean }>(
      `select merchant_id || '/' || currency as key, sum(completed_count)::text as completed, sum(gross_amount)::text as gross,
              sum(refund_count)::text as refunds, sum(refund_amount)::text as refunded, sum(failed_count)::text as failed,
              rm_merchant_metrics_v3.sketch_estimate(rm_merchant_metrics_v3.sketch_union(array_agg(customers)))::text as customers,
              rm_merchant_metrics_v3.sketch_is_exact(rm_merchant_metrics_v3.sketch_union(array_agg(customers))) as exact
       from rm_merchant_metrics_v3.totals_daily group by merchant_id, currency order by 1`,
    );
    expect(rows.map((r) => r.key)).toEqual([...expected.keys()].sort());
    for (const r of rows) {
      const e = expected.get(r.key)!;
      expect([Number(r.completed), BigInt(r.gross), Number(r.refunds), BigInt(r.refunded), Number(r.failed)])
        .toEqual([e.completed, e.gross, e.refunds, e.refunded, e.failed]);
      if (e.customers.size <= 256) expect([Number(r.customers), r.exact]).toEqual([e.customers.size, true]);
      else {
        expect(r.exact).toBe(false);
        expect(Math.abs(Number(r.customers) - e.customers.size) / e.customers.size).toBeLessThan(3 * SKETCH_STANDARD_ERROR);
      }
    }
    expect(expected.get('v3-whale/JPY')!.customers.size).toBe(3000);
  });

  const questions: Array<[Granularity, string, Dimension[], Comparison | undefined, string, string]> = [];
  for (const zone of ['UTC', 'America/New_York', 'Asia/Tokyo', 'Asia/Kolkata', 'Asia/Kathmandu']) {
    questions.push(['HOUR', zone, [], undefined, '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z']);
    questions.push(['DAY', zone, ['PAYMENT_METHOD'], 'PREVIOUS_PERIOD', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z']);
    questions.push(['DAY', zone, [], 'PREVIOUS_PERIOD', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z']);
    questions.push(['WEEK', zone, ['STORE'], undefined, '2026-02-16T00:00:00Z', '2026-04-13T00:00:00Z']);
    questions.push(['MONTH', zone, ['PAYMENT_METHOD', 'STORE'], 'PREVIOUS_YEAR', '2026-02-01T00:00:00Z', '2026-05-01T00:00:00Z']);
  }

  it.each(questions)('answers %s in %s grouped by %j (compare %s) as v2 does, on both engines', async (granularity, timeZone, groupBy, compareTo, from, to) => {
    for (const merchantId of ['v3-0', 'v3-7', 'v3-13', 'v3-whale']) {
      const query: MetricsQuery = { merchantId, from: new Date(from), to: new Date(to), granularity, timeZone, groupBy, compareTo };
      const v3 = await readMetrics(postgres, 'rm_merchant_metrics_v3', query);
      expect(await readMetrics(timescale.client, 'rm_merchant_metrics_v3', query)).toEqual(v3);
      const v2 = await readMetrics(postgres, 'rm_merchant_metrics_v2', query);
      expect(v3.series.length).toBeGreaterThan(0);
      if (merchantId !== 'v3-whale') {
        // At most 40 customers: every sketch is an exact set, so the answers are identical.
        expect(v3).toEqual(v2);
        continue;
      }
      // The whale: sums identical; customer counts exact up to 256, estimates within 3 standard errors beyond.
      const strip = (a: typeof v2) => JSON.parse(JSON.stringify(a, (k, v) => (k === 'uniqueCustomers' || k === 'uniqueCustomersExact' ? undefined : typeof v === 'bigint' ? String(v) : v)));
      expect(strip(v3)).toEqual(strip(v2));
      const figures = (a: typeof v2) => [...a.totals, ...a.series.flatMap((s) => s.points.flatMap((p) => [p.values, ...(p.previous ? [p.previous] : [])]))];
      const exact = figures(v2);
      figures(v3).forEach((value, k) => {
        const truth = exact[k].uniqueCustomers;
        if (truth <= 256) expect([value.uniqueCustomers, value.uniqueCustomersExact]).toEqual([truth, true]);
        else {
          expect(value.uniqueCustomersExact).toBe(false);
          expect(Math.abs(value.uniqueCustomers - truth) / truth).toBeLessThan(3 * SKETCH_STANDARD_ERROR);
        }
      });
    }
  });
});
