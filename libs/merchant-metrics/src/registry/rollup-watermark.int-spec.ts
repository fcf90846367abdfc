import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { partitionOf, readPartitionCount } from '@app/event-store';
import { testDatabase, type TestDatabase } from '@app/testing';
import { merchantMetricsProjection } from '../projection/merchant-metrics.definition.js';
import { applyEvents, type ProjectionTarget } from '../projection/apply-events.js';
import { merchantMetricsV1, PROJECTION_NAME } from '../projection/merchant-metrics.projection.js';
import { type PaymentEventJson, goLiveIfFirst, installVersion } from '@app/projections';
import { readMetrics } from '../query/metrics-reader.js';
import type { MetricsQuery } from '../query/metrics-query.js';
import { advanceRollupWatermark, ROLLUP_DELAY_DAYS, rollupWatermarkTarget } from './rollup-watermark.js';

const DAY = 86_400_000;
const M = 'm-watermark';

describe('native rollups behind a watermark', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let client: pg.PoolClient;
  let target: ProjectionTarget;
  let partitions: number;
  let partition: number;
  let checkpoint = 0;
  /** The watermark the install set: ROLLUP_DELAY_DAYS before the start of the database's current UTC day. */
  let today: Date;
  const at = (dayOffset: number, hour: number, minute = 0) =>
    new Date(today.getTime() + dayOffset * DAY + hour * 3_600_000 + minute * 60_000).toISOString();
  const sale = (occurredAt: string, minorUnits: string, customerId: string): PaymentEventJson => ({
    eventId: crypto.randomUUID(), merchantId: M, occurredAt,
    paymentCompleted: { paymentId: crypto.randomUUID(), customerId, storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits } },
  });
  const apply = async (events: PaymentEventJson[]) => {
    checkpoint = await applyEvents(client, target, partition, checkpoint,
      events.map((event, i) => ({ position: checkpoint + i + 1, recordedAt: '2026-11-21T00:00:00.000000Z', event })));
  };
  /** Hourly rows of the merchant as `day offset|hour|completed|gross`. */
  const rollupRows = async (table: string) =>
    (await pool.query<{ row: string }>(
      `select concat_ws('|', to_char(bucket at time zone 'UTC', 'YYYY-MM-DD HH24'), completed_count, gross_amount) as row
       from ${target.schemaName}.${table} where merchant_id = $1 order by bucket`, [M],
    )).rows.map((r) => r.row);
  const hourOf = (iso: string) => iso.slice(0, 13).replace('T', ' ');
  const days = (from: number, to: number, granularity: MetricsQuery['granularity'] = 'DAY', timeZone = 'UTC'): MetricsQuery =>
    ({ merchantId: M, from: new Date(today.getTime() + from * DAY), to: new Date(today.getTime() + to * DAY), granularity, timeZone, groupBy: [] });
  const totals = async (query: MetricsQuery) => {
    const answer = await readMetrics(pool, target.schemaName, query);
    return answer.totals.map((t) => `${t.currency} ${t.transactionCount} ${t.grossAmount} ${t.uniqueCustomers}`);
  };

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 3 });
    client = await pool.connect();
    partitions = await readPartitionCount(pool);
    partition = partitionOf(M, partitions);
    const installed = await installVersion(client, merchantMetricsProjection, { version: 71, partitions, codeRevision: 'test', engine: 'postgres' });
    target = { projection: PROJECTION_NAME, version: 71, schemaName: installed.schemaName, engine: 'postgres', logic: merchantMetricsV1 };
    expect(await goLiveIfFirst(pool, PROJECTION_NAME, 71)).toBe(true);
    const { rows } = await pool.query<{ w: Date }>(
      `select materialized_until as w from ${target.schemaName}.rollup_watermark where partition = $1`, [partition]);
    today = new Date(rows[0].w);
  });
  afterAll(async () => {
    client?.release();
    await pool?.end();
    await database?.drop();
  });

  it('writes rollups only below the watermark, answers from both sides, and materializes exactly when it moves', async () => {
    // A UTC midnight ROLLUP_DELAY_DAYS (one) before the current UTC day's.
    expect(ROLLUP_DELAY_DAYS).toBe(1);
    expect(today.getTime() % DAY).toBe(0);
    expect(today.getTime()).toBe(rollupWatermarkTarget(new Date()).getTime());
    expect(Date.now() - today.getTime()).toBeGreaterThanOrEqual(DAY);
    expect(Date.now() - today.getTime()).toBeLessThan(2 * DAY);

    const yesterday = [sale(at(-1, 10), '100', 'c-1'), sale(at(-1, 10, 20), '250', 'c-2')];
    const later = [sale(at(0, 9), '1000', 'c-1'), sale(at(0, 9, 40), '30', 'c-3'), sale(at(1, 2), '7', 'c-4')];
    await apply([...yesterday, ...later]);

    // Below the watermark the rollups are written at once; above it only the 15-minute cells.
    expect(await rollupRows('metrics_hourly')).toEqual([`${hourOf(at(-1, 10))}|2|350`]);
    expect(await rollupRows('metrics_daily')).toEqual([`${at(-1, 0).slice(0, 10)} 00|2|350`]);
    // Rows above the watermark in a rollup (a rebuild writes them) are not read.
    await pool.query(
      `insert into ${target.schemaName}.metrics_hourly values ($1, $2, 'JPY', 'CARD', 's-1', 99, 99999, 0, 0, 0)`, [M, at(0, 9)]);

    // Every shape that reads a rollup agrees with the 15-minute table (Kathmandu, +05:45, reads only that).
    const expected = ['JPY 5 1387 4'];
    const shapes = [days(-2, 3), days(-2, 3, 'DAY', 'America/New_York'), days(-2, 3, 'HOUR'), days(-2, 3, 'DAY', 'Asia/Kathmandu')];
    for (const query of shapes) expect(await totals(query)).toEqual(expected);
    const answer = await readMetrics(pool, target.schemaName, days(-1, 2));
    expect(answer.series[0].points.map((p) => p.values.transactionCount)).toEqual([2, 2, 1]);

    // The analysts' views read the same way.
    const view = async (name: string) =>
      (await pool.query<{ n: string; gross: string }>(
        `select sum(completed_count)::text as n, sum(gross_amount)::text as gross from analytics.${name} where merchant_id = $1`, [M])).rows[0];
    for (const name of ['merchant_metrics_hourly', 'merchant_metrics_daily', 'merchant_metrics_monthly']) {
      expect(await view(name)).toEqual({ n: '5', gross: '1387' });
    }

    // Moving the watermark two days on computes those days' rollups from the 15-minute cells
    // (replacing the stray row) and changes no answer; with maxDays, a day at a time.
    const until = new Date(today.getTime() + 2 * DAY);
    expect(await advanceRollupWatermark(client, target, partition, until, partitions, { maxDays: 1 })).toBe(true);
    const { rows: marks } = await pool.query<{ w: Date }>(
      `select materialized_until as w from ${target.schemaName}.rollup_watermark where partition = $1`, [partition]);
    expect(new Date(marks[0].w).getTime()).toBe(today.getTime() + DAY);
    expect(await rollupRows('metrics_hourly')).toEqual([`${hourOf(at(-1, 10))}|2|350`, `${hourOf(at(0, 9))}|2|1030`]);
    for (const query of shapes) expect(await totals(query)).toEqual(expected);
    expect(await advanceRollupWatermark(client, target, partition, until, partitions)).toBe(true);
    expect(await advanceRollupWatermark(client, target, partition, until, partitions)).toBe(false);
    expect(await rollupRows('metrics_hourly')).toEqual([
      `${hourOf(at(-1, 10))}|2|350`, `${hourOf(at(0, 9))}|2|1030`, `${hourOf(at(1, 2))}|1|7`,
    ]);
    expect(await rollupRows('metrics_daily')).toEqual([
      `${at(-1, 0).slice(0, 10)} 00|2|350`, `${at(0, 0).slice(0, 10)} 00|2|1030`, `${at(1, 0).slice(0, 10)} 00|1|7`,
    ]);
    for (const query of shapes) expect(await totals(query)).toEqual(expected);

    // A late event below the new watermark goes straight into the rollups.
    await apply([sale(at(1, 2, 5), '3', 'c-1')]);
    expect(await rollupRows('metrics_hourly')).toEqual([
      `${hourOf(at(-1, 10))}|2|350`, `${hourOf(at(0, 9))}|2|1030`, `${hourOf(at(1, 2))}|2|10`,
    ]);
    for (const query of shapes) expect(await totals(query)).toEqual(['JPY 6 1390 4']);
    for (const name of ['merchant_metrics_hourly', 'merchant_metrics_daily', 'merchant_metrics_monthly']) {
      expect(await view(name)).toEqual({ n: '6', gross: '1390' });
    }
  });
});
