import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { partitionOf } from '@app/event-store';
import { testDatabase, type TestDatabase } from '@app/testing';
import { merchantMetricsProjection } from './projection/merchant-metrics.definition.js';
import { applyEvents, type ProjectionTarget } from './projection/apply-events.js';
import { merchantMetricsV1, PROJECTION_NAME } from './projection/merchant-metrics.projection.js';
import { type PositionedEvent, installVersion, readEngine, type SqlClient } from '@app/projections';
import { readMetrics } from './query/metrics-reader.js';
import type { Comparison, Dimension, Granularity } from './query/metrics-query.js';
import { generateEvents } from './testing/generated-events.js';
import { startTimescalePglite, type TimescalePglite } from './testing/timescale-pglite.js';

const PARTITIONS = 16;

/** Projects events through the real write path (applyEvents), partition by partition, in batches. */
async function project(client: SqlClient, target: ProjectionTarget, events: PositionedEvent[][]): Promise<void> {
  for (let p = 0; p < PARTITIONS; p++) {
    let checkpoint = 0;
    const all = events[p];
    for (let i = 0; i < all.length; i += 300) checkpoint = await applyEvents(client, target, p, checkpoint, all.slice(i, i + 300));
    // A replay of everything changes nothing.
    await applyEvents(client, target, p, checkpoint, all);
  }
}

const dump = (client: SqlClient, schema: string, table: string, columns: string) =>
  client.query(
    `select merchant_id, to_char(bucket at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as bucket, currency, payment_method, store_id, ${columns}
     from ${schema}.${table} order by merchant_id, bucket, currency, payment_method, store_id, 6`,
  ).then((r) => r.rows);
const SUMS = 'completed_count::text, gross_amount::text, refund_count::text, refund_amount::text, failed_count::text';

describe('read model parity: PostgreSQL (native partitions) and TimescaleDB (hypertables, continuous aggregates)', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let postgres: pg.PoolClient;
  let timescale: TimescalePglite;
  const schema = 'rm_merchant_metrics_v1';

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
    postgres = await pool.connect();
    timescale = await startTimescalePglite();

    const byPartition: PositionedEvent[][] = Array.from({ length: PARTITIONS }, () => []);
    const events = generateEvents({
      seed: 42, count: 4000, merchants: 25, merchantPrefix: 'par-', customersPerMerchant: 40,
      from: new Date('2026-02-20T00:00:00Z'), to: new Date('2026-04-10T00:00:00Z'),
    });
    for (const event of events) {
      const list = byPartition[partitionOf(event.merchantId, PARTITIONS)];
      list.push({ position: list.length + 1, recordedAt: '2026-11-21T00:00:00.000000Z', event });
    }
    for (const client of [postgres, timescale.client]) {
      const engine = await readEngine(client);
      const installed = await installVersion(client, merchantMetricsProjection, { version: 1, partitions: PARTITIONS, codeRevision: 'parity', engine });
      await project(client, { projection: PROJECTION_NAME, version: 1, schemaName: installed.schemaName, engine, logic: merchantMetricsV1 }, byPartition);
    }
  }, 120_000);
  afterAll(async () => {
    postgres?.release();
    await pool?.end();
    await timescale?.close();
    await database?.drop();
  });

  it('detects each engine', async () => {
    expect(await readEngine(postgres)).toBe('postgres');
    expect(await readEngine(timescale.client)).toBe('timescaledb');
    const { rows } = await timescale.client.query<{ n: number }>(
      `select count(*)::int as n from timescaledb_information.hypertables where hypertable_schema = $1`, [schema],
    );
    expect(rows[0].n).toBe(2);
  });

  it('compresses both hypertables after 30 days, segmented by merchant and ordered by bucket', async () => {
    const { rows: policies } = await timescale.client.query<{ hypertable_name: string; compress_after: string }>(
      `select hypertable_name, config->>'compress_after' as compress_after
       from timescaledb_information.jobs
       where proc_name = 'policy_compression' and hypertable_schema = $1 order by hypertable_name`, [schema],
    );
    expect(policies).toEqual([
      { hypertable_name: 'customers_15m', compress_after: '30 days' },
      { hypertable_name: 'metrics_15m', compress_after: '30 days' },
    ]);
    const { rows: settings } = await timescale.client.query(
      `select hypertable_name, attname, segmentby_column_index, orderby_column_index, orderby_asc
       from timescaledb_information.compression_settings where hypertable_schema = $1 order by hypertable_name, attname`, [schema],
    );
    const segmentBy = { segmentby_column_index: 1, orderby_column_index: null, orderby_asc: null };
    const orderBy = { segmentby_column_index: null, orderby_column_index: 1, orderby_asc: true };
    expect(settings).toEqual([
      { hypertable_name: 'customers_15m', attname: 'bucket', ...orderBy },
      { hypertable_name: 'customers_15m', attname: 'merchant_id', ...segmentBy },
      { hypertable_name: 'metrics_15m', attname: 'bucket', ...orderBy },
      { hypertable_name: 'metrics_15m', attname: 'merchant_id', ...segmentBy },
    ]);
  });

  it.each(['metrics_15m', 'metrics_hourly', 'metrics_daily'])('holds the same %s', async (table) => {
    const expected = await dump(postgres, schema, table, SUMS);
    expect(expected.length).toBeGreaterThan(100);
    expect(await dump(timescale.client, schema, table, SUMS)).toEqual(expected);
  });

  it('holds the same customer sets', async () => {
    const expected = await dump(postgres, schema, 'customers_15m', 'customer_id');
    expect(await dump(timescale.client, schema, 'customers_15m', 'customer_id')).toEqual(expected);
  });

  const questions: Array<[Granularity, string, Dimension[], Comparison | undefined, string, string]> = [];
  for (const zone of ['UTC', 'America/New_York', 'Asia/Tokyo', 'Asia/Kolkata', 'Asia/Kathmandu']) {
    questions.push(['HOUR', zone, [], undefined, '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z']);
    questions.push(['DAY', zone, ['PAYMENT_METHOD'], 'PREVIOUS_PERIOD', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z']);
    questions.push(['WEEK', zone, ['STORE'], undefined, '2026-02-16T00:00:00Z', '2026-04-13T00:00:00Z']);
    questions.push(['MONTH', zone, ['PAYMENT_METHOD', 'STORE'], 'PREVIOUS_YEAR', '2026-02-01T00:00:00Z', '2026-05-01T00:00:00Z']);
  }
  it.each(questions)('answers %s in %s grouped by %j (compare %s) identically', async (granularity, timeZone, groupBy, compareTo, from, to) => {
    for (const merchantId of ['par-0', 'par-7', 'par-13']) {
      const query = { merchantId, from: new Date(from), to: new Date(to), granularity, timeZone, groupBy, compareTo };
      const expected = await readMetrics(postgres, schema, query);
      expect(expected.series.length).toBeGreaterThan(0);
      expect(await readMetrics(timescale.client, schema, query)).toEqual(expected);
    }
  });
});
