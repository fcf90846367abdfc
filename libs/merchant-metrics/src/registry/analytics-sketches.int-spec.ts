import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { partitionOf, readPartitionCount } from '@app/event-store';
import { eventually, testDatabase, type TestDatabase } from '@app/testing';
import { merchantMetricsProjection } from '../projection/merchant-metrics.definition.js';
import { applyEvents } from '../projection/apply-events.js';
import { merchantMetricsLogic, PROJECTION_NAME } from '../projection/merchant-metrics.projection.js';
import { type PaymentEventJson, type PositionedEvent, goLiveIfFirst, installVersion, readLive, promoteVersion, rollbackVersion } from '@app/projections';

const A = 'm-sketch-a';
const B = 'm-sketch-b';
const V3_SCHEMA = 'rm_merchant_metrics_v3';

const money = (currency: string, minorUnits: number) => ({ currency, minorUnits: String(minorUnits) });
const pay = (merchantId: string, occurredAt: string, minorUnits: number, customerId: string, paymentId: string,
  method = 'CARD', storeId = 's-1', currency = 'JPY'): PaymentEventJson => ({
  eventId: crypto.randomUUID(), merchantId, occurredAt,
  paymentCompleted: { paymentId, customerId, storeId, method: `PAYMENT_METHOD_${method}`, amount: money(currency, minorUnits) },
});
const fail = (merchantId: string, occurredAt: string, minorUnits: number, customerId: string, paymentId: string): PaymentEventJson => ({
  eventId: crypto.randomUUID(), merchantId, occurredAt,
  paymentFailed: { paymentId, customerId, storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: money('JPY', minorUnits), reason: 'declined' },
});
const refund = (merchantId: string, occurredAt: string, minorUnits: number, paymentId: string): PaymentEventJson => ({
  eventId: crypto.randomUUID(), merchantId, occurredAt,
  paymentRefunded: { paymentId, refundId: `r-${paymentId}`, storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: money('JPY', minorUnits) },
});

// c-1 pays four times on 2026-10-05 at A (two stores, two currencies) and once at B; c-5 twice at B that day.
// The refund of p-a1 comes a day later: v2 and v3 count it in p-a1's bucket. c-3's payment fails.
const EVENTS: PaymentEventJson[] = [
  pay(A, '2026-10-05T10:05:00Z', 1000, 'c-1', 'p-a1'),
  pay(A, '2026-10-05T10:20:00Z', 500, 'c-2', 'p-a2', 'WALLET'),
  pay(A, '2026-10-05T10:40:00Z', 250, 'c-1', 'p-a3'),
  pay(A, '2026-10-05T10:50:00Z', 300, 'c-1', 'p-a4', 'CARD', 's-2'),
  pay(A, '2026-10-05T11:00:00Z', 1500, 'c-1', 'p-a5', 'CARD', 's-1', 'USD'),
  fail(A, '2026-10-05T14:00:00Z', 700, 'c-3', 'p-a6'),
  refund(A, '2026-10-06T09:00:00Z', 400, 'p-a1'),
  pay(A, '2026-10-31T23:55:00Z', 200, 'c-2', 'p-a8'),
  pay(A, '2026-11-01T00:05:00Z', 800, 'c-4', 'p-a9'),
  pay(B, '2026-10-05T10:10:00Z', 2000, 'c-1', 'p-b1', 'QR', 's-9'),
  pay(B, '2026-10-05T10:12:00Z', 100, 'c-5', 'p-b2', 'QR', 's-9'),
  pay(B, '2026-10-05T23:59:00Z', 50, 'c-5', 'p-b3', 'QR', 's-9'),
];

// Worked out by hand from EVENTS. merchant|bucket (UTC)|currency|method|store|completed|gross|refunds|refunded|failed|net|unique customers
const ROWS_15M = [
  `${A}|2026-10-05 10:00|JPY|CARD|s-1|1|1000|1|400|0|600|1`,
  `${A}|2026-10-05 10:15|JPY|WALLET|s-1|1|500|0|0|0|500|1`,
  `${A}|2026-10-05 10:30|JPY|CARD|s-1|1|250|0|0|0|250|1`,
  `${A}|2026-10-05 10:45|JPY|CARD|s-2|1|300|0|0|0|300|1`,
  `${A}|2026-10-05 11:00|USD|CARD|s-1|1|1500|0|0|0|1500|1`,
  `${A}|2026-10-05 14:00|JPY|CARD|s-1|0|0|0|0|1|0|0`,
  `${A}|2026-10-31 23:45|JPY|CARD|s-1|1|200|0|0|0|200|1`,
  `${A}|2026-11-01 00:00|JPY|CARD|s-1|1|800|0|0|0|800|1`,
  `${B}|2026-10-05 10:00|JPY|QR|s-9|2|2100|0|0|0|2100|2`,
  `${B}|2026-10-05 23:45|JPY|QR|s-9|1|50|0|0|0|50|1`,
];
const ROWS_HOURLY = [
  `${A}|2026-10-05 10:00|JPY|CARD|s-1|2|1250|1|400|0|850|1`,
  `${A}|2026-10-05 10:00|JPY|CARD|s-2|1|300|0|0|0|300|1`,
  `${A}|2026-10-05 10:00|JPY|WALLET|s-1|1|500|0|0|0|500|1`,
  `${A}|2026-10-05 11:00|USD|CARD|s-1|1|1500|0|0|0|1500|1`,
  `${A}|2026-10-05 14:00|JPY|CARD|s-1|0|0|0|0|1|0|0`,
  `${A}|2026-10-31 23:00|JPY|CARD|s-1|1|200|0|0|0|200|1`,
  `${A}|2026-11-01 00:00|JPY|CARD|s-1|1|800|0|0|0|800|1`,
  `${B}|2026-10-05 10:00|JPY|QR|s-9|2|2100|0|0|0|2100|2`,
  `${B}|2026-10-05 23:00|JPY|QR|s-9|1|50|0|0|0|50|1`,
];
const ROWS_DAILY = [
  `${A}|2026-10-05 00:00|JPY|CARD|s-1|2|1250|1|400|1|850|1`,
  `${A}|2026-10-05 00:00|JPY|CARD|s-2|1|300|0|0|0|300|1`,
  `${A}|2026-10-05 00:00|JPY|WALLET|s-1|1|500|0|0|0|500|1`,
  `${A}|2026-10-05 00:00|USD|CARD|s-1|1|1500|0|0|0|1500|1`,
  `${A}|2026-10-31 00:00|JPY|CARD|s-1|1|200|0|0|0|200|1`,
  `${A}|2026-11-01 00:00|JPY|CARD|s-1|1|800|0|0|0|800|1`,
  `${B}|2026-10-05 00:00|JPY|QR|s-9|3|2150|0|0|0|2150|2`,
];
const ROWS_MONTHLY = [
  `${A}|2026-10-01 00:00|JPY|CARD|s-1|3|1450|1|400|1|1050|2`,
  `${A}|2026-10-01 00:00|JPY|CARD|s-2|1|300|0|0|0|300|1`,
  `${A}|2026-10-01 00:00|JPY|WALLET|s-1|1|500|0|0|0|500|1`,
  `${A}|2026-10-01 00:00|USD|CARD|s-1|1|1500|0|0|0|1500|1`,
  `${A}|2026-11-01 00:00|JPY|CARD|s-1|1|800|0|0|0|800|1`,
  `${B}|2026-10-01 00:00|JPY|QR|s-9|3|2150|0|0|0|2150|2`,
];
// merchant|bucket (UTC)|currency|completed|gross|refunds|refunded|failed|net|unique customers
const TOTALS_HOURLY = [
  `${A}|2026-10-05 10:00|JPY|4|2050|1|400|0|1650|2`,
  `${A}|2026-10-05 11:00|USD|1|1500|0|0|0|1500|1`,
  `${A}|2026-10-05 14:00|JPY|0|0|0|0|1|0|0`,
  `${A}|2026-10-31 23:00|JPY|1|200|0|0|0|200|1`,
  `${A}|2026-11-01 00:00|JPY|1|800|0|0|0|800|1`,
  `${B}|2026-10-05 10:00|JPY|2|2100|0|0|0|2100|2`,
  `${B}|2026-10-05 23:00|JPY|1|50|0|0|0|50|1`,
];
const TOTALS_DAILY = [
  `${A}|2026-10-05 00:00|JPY|4|2050|1|400|1|1650|2`,
  `${A}|2026-10-05 00:00|USD|1|1500|0|0|0|1500|1`,
  `${A}|2026-10-31 00:00|JPY|1|200|0|0|0|200|1`,
  `${A}|2026-11-01 00:00|JPY|1|800|0|0|0|800|1`,
  `${B}|2026-10-05 00:00|JPY|3|2150|0|0|0|2150|2`,
];

/** The rows as a view of `version` shows them: with the unique-customer columns (always exact here), or without (v2's metric views). */
const asShown = (rows: string[], version: number, customers: boolean) =>
  rows.map((r) => (customers ? `${r}|t|${version}` : `${r.slice(0, r.lastIndexOf('|'))}|${version}`));

const SUMS = ['completed_count', 'gross_amount', 'refund_count', 'refund_amount', 'failed_count'];
const DIMENSIONS = ['merchant_id', 'bucket', 'currency', 'payment_method', 'store_id'];
const V2_METRIC_COLUMNS = [...DIMENSIONS, ...SUMS, 'net_amount', 'read_model_version'];
const V3_METRIC_COLUMNS = [...DIMENSIONS, ...SUMS, 'net_amount', 'unique_customers', 'unique_customers_exact', 'read_model_version', 'customers'];
const V2_TOTALS_COLUMNS = ['merchant_id', 'bucket', 'currency', ...SUMS, 'net_amount', 'unique_customers', 'unique_customers_exact', 'read_model_version'];
const CUSTOMERS_COLUMNS = [...DIMENSIONS, 'customer_id', 'read_model_version'];

const METRIC_VIEWS = { merchant_metrics_15m: ROWS_15M, merchant_metrics_hourly: ROWS_HOURLY, merchant_metrics_daily: ROWS_DAILY, merchant_metrics_monthly: ROWS_MONTHLY };
const TOTALS_VIEWS = { merchant_totals_hourly: TOTALS_HOURLY, merchant_totals_daily: TOTALS_DAILY };
const ALL_VIEWS = [...Object.keys(METRIC_VIEWS), ...Object.keys(TOTALS_VIEWS), 'merchant_customers_15m'];

describe('analytics views over customer sets (v2) and sketches (v3), switching with the live version', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let client: pg.PoolClient;
  let analyst: pg.PoolClient;

  /** Rows of a view as the analyst reads them. */
  const rowsOf = async (view: string, dimensions: boolean, customers: boolean, db: pg.ClientBase = analyst) => {
    const columns = ['merchant_id', `to_char(bucket at time zone 'UTC', 'YYYY-MM-DD HH24:MI')`, 'currency',
      ...(dimensions ? ['payment_method', 'store_id'] : []), ...SUMS, 'net_amount',
      ...(customers ? ['unique_customers', 'unique_customers_exact'] : []), 'read_model_version'];
    const { rows } = await db.query<{ row: string }>(
      `select concat_ws('|', ${columns.join(', ')}) as row from analytics.${view}
        where merchant_id in ($1, $2) order by merchant_id, bucket, currency${dimensions ? ', payment_method, store_id' : ''}`, [A, B]);
    return rows.map((r) => r.row);
  };
  const columnsOf = async (view: string) =>
    (await pool.query<{ column_name: string }>(
      `select column_name from information_schema.columns where table_schema = 'analytics' and table_name = $1 order by ordinal_position`, [view],
    )).rows.map((r) => r.column_name);
  const attempt = (statement: string, values?: unknown[]) => analyst.query(statement, values).then(() => 'allowed', (e: Error) => e.message);
  const analystUsage = async () =>
    (await pool.query<{ usage: boolean }>(`select has_schema_privilege('analyst', $1, 'usage') as usage`, [V3_SCHEMA])).rows[0]!.usage;
  const sketchFunctions = async () =>
    (await pool.query<{ name: string }>(
      `select p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'analytics' order by 1`,
    )).rows.map((r) => r.name);

  /** Every view of v2 as the analyst reads it, against the hand-computed rows. */
  const expectV2Views = async () => {
    for (const [view, rows] of Object.entries(METRIC_VIEWS)) {
      expect(await columnsOf(view), view).toEqual(V2_METRIC_COLUMNS);
      expect(await rowsOf(view, true, false), view).toEqual(asShown(rows, 2, false));
    }
    for (const [view, rows] of Object.entries(TOTALS_VIEWS)) {
      expect(await columnsOf(view), view).toEqual(V2_TOTALS_COLUMNS);
      expect(await rowsOf(view, false, true), view).toEqual(asShown(rows, 2, true));
    }
    expect(await columnsOf('merchant_customers_15m')).toEqual(CUSTOMERS_COLUMNS);
    const { rows } = await analyst.query(
      `select merchant_id, count(*)::int as rows, count(distinct customer_id)::int as customers, min(read_model_version) as version
         from analytics.merchant_customers_15m where merchant_id in ($1, $2) group by 1 order by 1`, [A, B]);
    expect(rows).toEqual([{ merchant_id: A, rows: 7, customers: 3, version: 2 }, { merchant_id: B, rows: 3, customers: 2, version: 2 }]);
    expect(await sketchFunctions()).toEqual([]);
    expect(await analystUsage()).toBe(false);
  };

  /** Every view of v3 as the analyst reads it, against the same hand-computed rows. */
  const expectV3Views = async () => {
    for (const [view, rows] of Object.entries(METRIC_VIEWS)) {
      expect(await columnsOf(view), view).toEqual(V3_METRIC_COLUMNS);
      expect(await rowsOf(view, true, true), view).toEqual(asShown(rows, 3, true));
    }
    for (const [view, rows] of Object.entries(TOTALS_VIEWS)) {
      expect(await columnsOf(view), view).toEqual([...V2_TOTALS_COLUMNS, 'customers']);
      expect(await rowsOf(view, false, true), view).toEqual(asShown(rows, 3, true));
    }
    expect(await columnsOf('merchant_customers_15m')).toEqual(CUSTOMERS_COLUMNS);
    expect(await attempt(`select count(distinct customer_id) from analytics.merchant_customers_15m where merchant_id = $1`, [A]))
      .toBe('analytics.merchant_customers_15m has no rows: merchant-metrics v3, the live version, keeps no customer ids');
    expect(await sketchFunctions()).toEqual(['sketch_estimate', 'sketch_is_exact', 'sketch_union']);
    expect(await analystUsage()).toBe(true);
  };

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 6 });
    client = await pool.connect();
    analyst = await pool.connect();
    await analyst.query('set role analyst');
    const partitions = await readPartitionCount(pool);
    const byPartition = new Map<number, PositionedEvent[]>();
    for (const event of EVENTS) {
      const partition = partitionOf(event.merchantId, partitions);
      const list = byPartition.get(partition) ?? byPartition.set(partition, []).get(partition)!;
      list.push({ position: list.length + 1, recordedAt: '2026-11-21T00:00:00.000000Z', event });
    }
    for (const version of [2, 3]) {
      const installed = await installVersion(client, merchantMetricsProjection, { version, partitions, codeRevision: 'test', engine: 'postgres' });
      const target = { projection: PROJECTION_NAME, version, schemaName: installed.schemaName, engine: 'postgres' as const, logic: merchantMetricsLogic(version) };
      // Batches of four: the refund finds its payment in an earlier batch, and sketches merge with stored ones.
      for (const [partition, events] of byPartition) {
        let checkpoint = 0;
        for (let i = 0; i < events.length; i += 4) checkpoint = await applyEvents(client, target, partition, checkpoint, events.slice(i, i + 4));
      }
    }
  });
  afterAll(async () => {
    await analyst?.query('reset role').catch(() => undefined);
    analyst?.release();
    client?.release();
    await pool?.end();
    await database?.drop();
  });

  it('v2 live: the views as before, and totals per merchant, hour or day and currency with exact unique customers', async () => {
    expect(await goLiveIfFirst(client, PROJECTION_NAME, 2)).toBe(true);
    await expectV2Views();
    const { rows } = await pool.query(`select table_name from information_schema.views where table_schema = 'analytics' order by 1`);
    expect(rows.map((r) => r.table_name)).toEqual([...ALL_VIEWS].sort());
  });

  it('promotes v3: a reader queued behind the switch reads v3, then every view gives the hand-computed values', async () => {
    // An analyst's query in flight on the daily view holds the promotion; a reader arriving meanwhile queues behind it.
    const blocker = await pool.connect();
    const reader = await pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select count(*) from analytics.merchant_metrics_daily');
      const pid = async (c: pg.PoolClient) => (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      const waitingOnLock = (p: number) => eventually(async () => {
        const { rows } = await pool.query(`select wait_event_type from pg_stat_activity where pid = $1`, [p]);
        expect(rows).toEqual([{ wait_event_type: 'Lock' }]);
      });
      const [promoterPid, readerPid] = [await pid(client), await pid(reader)];
      await reader.query('set role analyst');
      const promotion = promoteVersion(client, PROJECTION_NAME, 3);
      await waitingOnLock(promoterPid);
      const read = reader.query<{ version: number; rows: number; gross: string }>(
        `select read_model_version as version, count(*)::int as rows, sum(gross_amount)::text as gross
           from analytics.merchant_metrics_15m where merchant_id in ($1, $2) group by 1`, [A, B]);
      await waitingOnLock(readerPid);
      await blocker.query('commit');
      expect(await promotion).toEqual({ version: 3, previousVersion: 2 });
      expect((await read).rows).toEqual([{ version: 3, rows: 10, gross: '6700' }]);
    } finally {
      await reader.query('reset role').catch(() => undefined);
      blocker.release();
      reader.release();
    }
    expect(await readLive(pool, PROJECTION_NAME)).toMatchObject({ version: 3, previousVersion: 2 });
    await expectV3Views();
    const { rows: [comment] } = await pool.query(`select obj_description('analytics.merchant_customers_15m'::regclass, 'pg_class') as text`);
    expect(comment.text).toMatch(/^No rows: merchant-metrics v3 keeps no customer ids/);
  });

  it('lets the analyst merge sketches over any range with the analytics functions', async () => {
    // B's customers per Tokyo day: c-1 and c-5 on the 5th (19:10 and 19:12 JST), c-5 again on the 6th (08:59 JST).
    const { rows: tokyo } = await analyst.query(
      `select to_char(date_trunc('day', bucket, 'Asia/Tokyo') at time zone 'Asia/Tokyo', 'YYYY-MM-DD') as day,
              analytics.sketch_estimate(analytics.sketch_union(array_agg(customers)))::int as customers,
              analytics.sketch_is_exact(analytics.sketch_union(array_agg(customers))) as exact
         from analytics.merchant_metrics_15m where merchant_id = $1 group by 1 order by 1`, [B]);
    expect(tokyo).toEqual([{ day: '2026-10-05', customers: 2, exact: true }, { day: '2026-10-06', customers: 1, exact: true }]);
    // A's paying customers ever, over both currencies and months (c-3's payment failed).
    for (const view of ['merchant_metrics_15m', 'merchant_metrics_monthly', 'merchant_totals_daily']) {
      const { rows } = await analyst.query(
        `select analytics.sketch_estimate(analytics.sketch_union(array_agg(customers)))::int as customers from analytics.${view} where merchant_id = $1`, [A]);
      expect(rows, view).toEqual([{ customers: 3 }]);
    }
    // The merged sketch is the sketch of the union: the same bytes whichever rows it is merged from.
    const { rows: [same] } = await analyst.query(
      `select (select analytics.sketch_union(array_agg(customers)) from analytics.merchant_metrics_15m where merchant_id = $1)
            = (select analytics.sketch_union(array_agg(customers)) from analytics.merchant_metrics_daily where merchant_id = $1) as same`, [A]);
    expect(same).toEqual({ same: true });
  });

  it('gives the analyst USAGE on the live schema only, which the views need and which reads no table, and refuses every write', async () => {
    const refused: Record<string, RegExp> = {
      [`insert into analytics.merchant_metrics_15m (merchant_id) values ('m')`]: /permission denied for view merchant_metrics_15m/,
      'update analytics.merchant_metrics_hourly set gross_amount = 0': /permission denied for view merchant_metrics_hourly/,
      'delete from analytics.merchant_metrics_daily': /permission denied for view merchant_metrics_daily/,
      'update analytics.merchant_totals_hourly set gross_amount = 0': /permission denied for view merchant_totals_hourly/,
      'delete from analytics.merchant_totals_daily': /permission denied for view merchant_totals_daily/,
      // Not a view over one table: PostgreSQL refuses writes to it before it checks permissions.
      'delete from analytics.merchant_metrics_monthly': /cannot delete from view "merchant_metrics_monthly"/,
      [`insert into analytics.merchant_customers_15m (merchant_id) values ('m')`]: /cannot insert into view "merchant_customers_15m"/,
      [`select * from ${V3_SCHEMA}.metrics_daily`]: /permission denied for table metrics_daily/,
      [`select * from ${V3_SCHEMA}.totals_daily_p00`]: /permission denied for table totals_daily_p00/,
      [`create table ${V3_SCHEMA}.mine (a int)`]: /permission denied for schema rm_merchant_metrics_v3/,
      [`create function analytics.mine() returns int language sql return 1`]: /permission denied for schema analytics/,
      [`create or replace function analytics.sketch_estimate(sketch bytea) returns bigint language sql return 0`]: /permission denied for schema analytics/,
      [`select * from projections.analytics_no_customer_ids(3)`]: /permission denied for schema projections/,
      'select * from rm_merchant_metrics_v2.metrics_15m': /permission denied for schema rm_merchant_metrics_v2/,
    };
    for (const [statement, message] of Object.entries(refused)) expect(await attempt(statement), statement).toMatch(message);

    // Without USAGE the sketch functions cannot run for the analyst, inside the views or not; a refresh restores it.
    await pool.query(`revoke usage on schema ${V3_SCHEMA} from analyst`);
    expect(await attempt(`select sum(unique_customers) from analytics.merchant_metrics_daily`)).toMatch(/permission denied for schema rm_merchant_metrics_v3/);
    expect(await attempt(`select sum(completed_count) from analytics.merchant_metrics_daily`)).toBe('allowed');
    await pool.query(`select projections.refresh_analytics_views($1)`, [PROJECTION_NAME]);
    await expectV3Views();
  });

  it('rolls back to v2 and forward to v3: views, functions and USAGE follow the live pointer', async () => {
    expect(await rollbackVersion(client, PROJECTION_NAME)).toEqual({ version: 2, previousVersion: 3 });
    await expectV2Views();
    expect(await attempt(`select ${V3_SCHEMA}.sketch_estimate(null)`)).toMatch(/permission denied for schema rm_merchant_metrics_v3/);
    const { rows: [comment] } = await pool.query(`select obj_description('analytics.merchant_customers_15m'::regclass, 'pg_class') as text`);
    expect(comment).toEqual({ text: null });

    expect(await rollbackVersion(client, PROJECTION_NAME)).toEqual({ version: 3, previousVersion: 2 });
    await expectV3Views();
  });

  it("runs docs/analysts.md's examples as the analyst on both layouts", async () => {
    const docs = readFileSync(new URL('../../../../docs/analysts.md', import.meta.url), 'utf8');
    const fenced = (info: string) => [...docs.matchAll(new RegExp('```' + info + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
    const everywhere = fenced('sql').filter((q) => !q.startsWith('create role'));
    const sketchesOnly = fenced('sql sketches');
    expect(everywhere.length).toBeGreaterThanOrEqual(7);
    expect(sketchesOnly.length).toBeGreaterThanOrEqual(2);

    expect((await readLive(pool, PROJECTION_NAME))?.version).toBe(3);
    for (const example of [...everywhere, ...sketchesOnly]) {
      const outcome = await attempt(example);
      if (example.includes('analytics.merchant_customers_15m')) expect(outcome, example).toMatch(/merchant_customers_15m has no rows/);
      else expect(outcome, example).toBe('allowed');
    }
    await rollbackVersion(client, PROJECTION_NAME);
    for (const example of everywhere) expect(await attempt(example), example).toBe('allowed');
  });
});
