import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { EventStore, partitionOf, partitionTable, readPartitionCount } from '@app/event-store';
import { merchantMetricsDefinition } from '../projection/merchant-metrics.definition.js';
import { sampleEvent } from '../../../event-store/src/testing/sample-events.js';
import { eventually, testDatabase, type TestDatabase } from '@app/testing';
import { applyEvents, type ProjectionTarget } from '../projection/apply-events.js';
import { merchantMetricsV1, PROJECTION_NAME } from '../projection/merchant-metrics.projection.js';
import { type PaymentEventJson, type PositionedEvent, goLiveIfFirst, installVersion, listVersions, readLive, dropVersion, projectionStatus, promoteVersion, PromotionRefusedError, rollbackVersion } from '@app/projections';

const M = 'm-analytics';
const completed = (occurredAt: string, minorUnits: string, customerId: string): PaymentEventJson => ({
  eventId: crypto.randomUUID(), merchantId: M, occurredAt,
  paymentCompleted: { paymentId: crypto.randomUUID(), customerId, storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits } },
});
const refunded = (occurredAt: string, minorUnits: string): PaymentEventJson => ({
  eventId: crypto.randomUUID(), merchantId: M, occurredAt,
  paymentRefunded: { paymentId: 'p', refundId: 'r', storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits } },
});
const positioned = (events: PaymentEventJson[]): PositionedEvent[] =>
  events.map((event, i) => ({ position: i + 1, recordedAt: '2026-11-21T00:00:00.000000Z', event }));

// v1 and v2 hold different numbers for M, so every answer tells which version it came from.
const V1_EVENTS = [
  completed('2026-10-05T10:00:00Z', '1000', 'c-1'),
  completed('2026-10-20T23:50:00Z', '500', 'c-2'),
  refunded('2026-11-01T00:10:00Z', '300'),
];
const V2_EVENTS = [...V1_EVENTS.slice(0, 2), completed('2026-10-31T23:59:59Z', '700', 'c-3'), V1_EVENTS[2]!];

/** What each view holds for M under a version: rows, gross and net amounts, worked out by hand from the events above. */
const expectedViews = (version: number) => {
  const [cells, days, gross, net, customers] = version === 1 ? [3, 3, 1500, 1200, 2] : [4, 4, 2200, 1900, 3];
  return [
    `merchant_metrics_15m v${version}..${version} rows ${cells} gross ${gross} net ${net}`,
    `merchant_metrics_hourly v${version}..${version} rows ${cells} gross ${gross} net ${net}`,
    `merchant_metrics_daily v${version}..${version} rows ${days} gross ${gross} net ${net}`,
    `merchant_metrics_monthly v${version}..${version} rows 2 gross ${gross} net ${net}`,
    `merchant_customers_15m v${version}..${version} rows ${customers} gross null net null`,
  ];
};

/** All five views in one statement: one snapshot, so a mixed or missing view would show. */
const VIEWS_SQL = `
  select 'merchant_metrics_15m' as view, min(read_model_version) as lo, max(read_model_version) as hi, count(*)::int as n,
         sum(gross_amount)::text as gross, sum(net_amount)::text as net from analytics.merchant_metrics_15m where merchant_id = $1
  union all
  select 'merchant_metrics_hourly', min(read_model_version), max(read_model_version), count(*)::int, sum(gross_amount)::text, sum(net_amount)::text
    from analytics.merchant_metrics_hourly where merchant_id = $1
  union all
  select 'merchant_metrics_daily', min(read_model_version), max(read_model_version), count(*)::int, sum(gross_amount)::text, sum(net_amount)::text
    from analytics.merchant_metrics_daily where merchant_id = $1
  union all
  select 'merchant_metrics_monthly', min(read_model_version), max(read_model_version), count(*)::int, sum(gross_amount)::text, sum(net_amount)::text
    from analytics.merchant_metrics_monthly where merchant_id = $1
  union all
  select 'merchant_customers_15m', min(read_model_version), max(read_model_version), count(*)::int, null, null
    from analytics.merchant_customers_15m where merchant_id = $1`;

async function views(db: pg.Pool | pg.PoolClient): Promise<string[]> {
  const { rows } = await db.query<{ view: string; lo: number; hi: number; n: number; gross: string | null; net: string | null }>(VIEWS_SQL, [M]);
  return rows.map((r) => `${r.view} v${r.lo}..${r.hi} rows ${r.n} gross ${r.gross} net ${r.net}`);
}

const columnsOf = async (db: pg.Pool, view: string) =>
  (await db.query<{ column_name: string }>(
    `select column_name from information_schema.columns where table_schema = 'analytics' and table_name = $1 order by ordinal_position`,
    [view],
  )).rows.map((r) => r.column_name);

const METRIC_COLUMNS = ['merchant_id', 'bucket', 'currency', 'payment_method', 'store_id',
  'completed_count', 'gross_amount', 'refund_count', 'refund_amount', 'failed_count', 'net_amount', 'read_model_version'];

describe('promote, rollback and drop, with the analytics views following the live pointer', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let client: pg.PoolClient;
  let partitions: number;
  const targets: Record<number, ProjectionTarget> = {};
  // Stored events not yet applied: one recorded an hour ago (partition `old`), one just now (partition `fresh`).
  let oldEvent: PositionedEvent;
  let freshEvent: PositionedEvent;
  let old: number;
  let fresh: number;

  const install = async (version: number) => {
    const installed = await installVersion(client, merchantMetricsDefinition(() => merchantMetricsV1), { version, partitions, codeRevision: `rev-${version}`, engine: 'postgres',
    });
    targets[version] = { projection: PROJECTION_NAME, version, schemaName: installed.schemaName, engine: 'postgres', logic: merchantMetricsV1 };
  };
  /** Applies one stored event (position 1 of its partition) to a version, as its projector would. */
  const project = (version: number, partition: number, event: PositionedEvent) => applyEvents(client, targets[version]!, partition, 0, [event]);
  const statuses = async () => Object.fromEntries((await listVersions(pool, PROJECTION_NAME)).map((v) => [v.version, v.status]));

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 8 });
    client = await pool.connect();
    partitions = await readPartitionCount(pool);
    const home = partitionOf(M, partitions);
    const merchantOutside = (taken: number[], prefix: string) => {
      for (let i = 0; ; i++) if (!taken.includes(partitionOf(`${prefix}-${i}`, partitions))) return `${prefix}-${i}`;
    };
    await install(1);
    await install(2);
    // M's rows. The store holds no events in M's partition, so these checkpoints are at (past) its head.
    await applyEvents(client, targets[1]!, home, 0, positioned(V1_EVENTS));
    await applyEvents(client, targets[2]!, home, 0, positioned(V2_EVENTS));

    // The append path stamps recorded_at with now(); an event an hour old can only be written directly
    // (the store refuses UPDATE and DELETE, not INSERT), with its partition's head moved by hand.
    const oldMerchant = merchantOutside([home], 'm-old');
    old = partitionOf(oldMerchant, partitions);
    const stored = sampleEvent({ merchantId: oldMerchant });
    const { rows } = await pool.query<{ recorded_at: Date }>(
      `insert into ${partitionTable(old)} (partition, position, event_id, merchant_id, event_type, occurred_at, recorded_at, payload)
       values ($1, 1, $2, $3, $4, $5, now() - interval '1 hour', $6::jsonb) returning recorded_at`,
      [old, stored.eventId, oldMerchant, stored.type, stored.occurredAt, stored.payloadJson],
    );
    await pool.query(`update event_store.partition_heads set head = 1 where partition = $1`, [old]);
    oldEvent = { position: 1, recordedAt: rows[0]!.recorded_at.toISOString(), event: JSON.parse(stored.payloadJson) };

    const freshMerchant = merchantOutside([home, old], 'm-fresh');
    fresh = partitionOf(freshMerchant, partitions);
    const appended = sampleEvent({ merchantId: freshMerchant });
    await new EventStore(pool, partitions).append([appended]);
    freshEvent = { position: 1, recordedAt: new Date().toISOString(), event: JSON.parse(appended.payloadJson) };
  });
  afterAll(async () => {
    client?.release();
    await pool?.end();
    await database?.drop();
  });

  it('creates no views while nothing is live', async () => {
    await pool.query(`select projections.refresh_analytics_views($1)`, [PROJECTION_NAME]);
    const { rows } = await pool.query(`select table_name from information_schema.views where table_schema = 'analytics'`);
    expect(rows).toEqual([]);
  });

  it("the first go-live creates the views over v1's tables", async () => {
    expect(await goLiveIfFirst(client, PROJECTION_NAME, 1)).toBe(true);
    expect(await views(pool)).toEqual(expectedViews(1));
    for (const view of ['merchant_metrics_15m', 'merchant_metrics_hourly', 'merchant_metrics_daily', 'merchant_metrics_monthly']) {
      expect(await columnsOf(pool, view)).toEqual(METRIC_COLUMNS);
    }
    expect(await columnsOf(pool, 'merchant_customers_15m')).toEqual(
      ['merchant_id', 'bucket', 'currency', 'payment_method', 'store_id', 'customer_id', 'read_model_version'],
    );
    const { rows: months } = await pool.query(
      `select to_char(bucket at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as month, completed_count::int, gross_amount::text,
              refund_count::int, refund_amount::text, net_amount::text
       from analytics.merchant_metrics_monthly where merchant_id = $1 order by bucket`,
      [M],
    );
    expect(months).toEqual([
      { month: '2026-10-01 00:00', completed_count: 2, gross_amount: '1500', refund_count: 0, refund_amount: '0', net_amount: '1500' },
      { month: '2026-11-01 00:00', completed_count: 0, gross_amount: '0', refund_count: 1, refund_amount: '300', net_amount: '-300' },
    ]);
  });

  it('refuses an unknown version, the live one, and one that lags, and changes nothing', async () => {
    await expect(promoteVersion(client, PROJECTION_NAME, 9)).rejects.toThrow(/merchant-metrics has no version 9/);
    await expect(promoteVersion(client, PROJECTION_NAME, 1)).rejects.toThrow(/v1 is already live/);
    const refusal = promoteVersion(client, PROJECTION_NAME, 2);
    await expect(refusal).rejects.toBeInstanceOf(PromotionRefusedError);
    await expect(refusal).rejects.toThrow(/v2 has not caught up: 2 events in 2 partitions not applied yet, the oldest 36\d\d\.\d s old \(limit 5 s\)/);
    expect(await readLive(pool, PROJECTION_NAME)).toMatchObject({ version: 1, previousVersion: null });
    expect(await statuses()).toEqual({ 1: 'live', 2: 'building' });
    expect(await views(pool)).toEqual(expectedViews(1));

    const report = await projectionStatus(pool);
    expect(report.map((r) => ({ version: r.version, live: r.live, applied: r.eventsApplied, lag: r.lag.events, behind: r.lag.partitionsBehind, revision: r.codeRevision })))
      .toEqual([
        { version: 1, live: true, applied: 3, lag: 2, behind: 2, revision: 'rev-1' },
        { version: 2, live: false, applied: 4, lag: 2, behind: 2, revision: 'rev-2' },
      ]);
    expect(report[1]!.lag.seconds).toBeGreaterThan(3590);
    expect(report[1]!.lag.seconds).toBeLessThan(3900);
  });

  it('promotes a caught-up version: readers on other connections see wholly v1, then wholly v2, never an error', async () => {
    await project(2, old, oldEvent);
    // v2 still lacks the fresh event: a lag of seconds is within the limit.
    const answers: string[][] = [];
    const errors: unknown[] = [];
    let stop = false;
    const readers = Array.from({ length: 3 }, async () => {
      const reader = await pool.connect();
      try {
        while (!stop) await views(reader).then((a) => answers.push(a), (e) => errors.push(e));
      } finally {
        reader.release();
      }
    });
    await eventually(() => expect(answers.length).toBeGreaterThan(5));
    const promoted = await promoteVersion(client, PROJECTION_NAME, 2, { maxLagSeconds: 60 });
    const atPromotion = answers.length;
    await eventually(() => expect(answers.length).toBeGreaterThan(atPromotion + 5));
    stop = true;
    await Promise.all(readers);

    expect(promoted).toEqual({ version: 2, previousVersion: 1 });
    expect(errors).toEqual([]);
    const v1 = expectedViews(1);
    const v2 = expectedViews(2);
    for (const answer of answers) expect([v1, v2]).toContainEqual(answer);
    expect(answers[0]).toEqual(v1);
    expect(answers.at(-1)).toEqual(v2);
    expect(await views(pool)).toEqual(v2);
    expect(await readLive(pool, PROJECTION_NAME)).toMatchObject({ version: 2, previousVersion: 1 });
    expect(await statuses()).toEqual({ 1: 'retired', 2: 'live' });

    // From here on nothing waits on the clock: both versions apply the fresh event too.
    await project(1, fresh, freshEvent);
    await project(2, fresh, freshEvent);
  });

  it('moves the views inside the pointer\'s transaction: a reader waits for it, and a rolled-back switch leaves them', async () => {
    const writer = await pool.connect();
    const reader = await pool.connect();
    try {
      await writer.query('begin');
      await writer.query(`update projections.live set version = 1, previous_version = 2 where projection = $1`, [PROJECTION_NAME]);
      expect(await views(writer)).toEqual(expectedViews(1));
      const { rows: [{ pid }] } = await reader.query<{ pid: number }>('select pg_backend_pid() as pid');
      const waiting = views(reader);
      await eventually(async () => {
        const { rows } = await pool.query(`select wait_event_type from pg_stat_activity where pid = $1`, [pid]);
        expect(rows).toEqual([{ wait_event_type: 'Lock' }]);
      });
      await writer.query('rollback');
      expect(await waiting).toEqual(expectedViews(2));
    } finally {
      writer.release();
      reader.release();
    }
  });

  it('rolls back to the previous version once it has caught up, and refuses to promote a retired one', async () => {
    await expect(rollbackVersion(client, PROJECTION_NAME)).rejects.toThrow(/v1 has not caught up: 1 events in 1 partitions/);
    expect(await views(pool)).toEqual(expectedViews(2));
    await project(1, old, oldEvent);

    expect(await rollbackVersion(client, PROJECTION_NAME)).toEqual({ version: 1, previousVersion: 2 });
    expect(await views(pool)).toEqual(expectedViews(1));
    expect(await readLive(pool, PROJECTION_NAME)).toMatchObject({ version: 1, previousVersion: 2 });
    expect(await statuses()).toEqual({ 1: 'live', 2: 'retired' });
    await expect(promoteVersion(client, PROJECTION_NAME, 2)).rejects.toThrow(/v2 is retired; rollback returns to the previous live version/);
  });

  it('drops a retired version with its schema and registry rows, and refuses the live one', async () => {
    await expect(dropVersion(client, PROJECTION_NAME, 1)).rejects.toThrow(/v1 is live; promote another version or roll back first/);
    const schemas = async () =>
      (await pool.query(`select nspname from pg_namespace where nspname like 'rm_merchant_metrics_v%' order by 1`)).rows.map((r) => r.nspname);
    expect(await schemas()).toEqual(['rm_merchant_metrics_v1', 'rm_merchant_metrics_v2']);

    expect(await dropVersion(client, PROJECTION_NAME, 2)).toEqual({ schemaName: 'rm_merchant_metrics_v2', leaseOwners: [] });
    expect(await schemas()).toEqual(['rm_merchant_metrics_v1']);
    expect(await statuses()).toEqual({ 1: 'live' });
    expect((await pool.query(`select count(*)::int as n from projections.checkpoints where version = 2`)).rows).toEqual([{ n: 0 }]);
    expect(await readLive(pool, PROJECTION_NAME)).toMatchObject({ version: 1, previousVersion: null });
    expect(await views(pool)).toEqual(expectedViews(1));

    await expect(rollbackVersion(client, PROJECTION_NAME)).rejects.toThrow(/has no previous version to roll back to/);
    await expect(dropVersion(client, PROJECTION_NAME, 2)).rejects.toThrow(/merchant-metrics has no version 2/);
  });

  it('recreates a view whose columns change with the version, and back', async () => {
    // A test version of v1's logic and tables, under a number no real version takes.
    await install(13);
    // A version without failed_count: `create or replace view` cannot drop a column, so the view is dropped and created.
    await pool.query(`alter table rm_merchant_metrics_v13.metrics_15m drop column failed_count`);
    // Its projector could not write this table; the test only needs it counted as caught up.
    await pool.query(
      `update projections.checkpoints c set position = h.head from event_store.partition_heads h
        where c.projection = $1 and c.version = 13 and c.partition = h.partition`,
      [PROJECTION_NAME],
    );

    await promoteVersion(client, PROJECTION_NAME, 13);
    expect(await columnsOf(pool, 'merchant_metrics_15m')).toEqual(METRIC_COLUMNS.filter((c) => c !== 'failed_count'));
    expect(await columnsOf(pool, 'merchant_metrics_daily')).toEqual(METRIC_COLUMNS);
    await pool.query(
      `insert into rm_merchant_metrics_v13.metrics_15m (merchant_id, bucket, currency, payment_method, store_id, completed_count, gross_amount, refund_count, refund_amount)
       values ($1, '2026-10-05T10:00:00Z', 'JPY', 'CARD', 's-1', 1, 42, 0, 0)`,
      [M],
    );
    expect((await pool.query(`select read_model_version, gross_amount::text, net_amount::text from analytics.merchant_metrics_15m`)).rows)
      .toEqual([{ read_model_version: 13, gross_amount: '42', net_amount: '42' }]);

    await rollbackVersion(client, PROJECTION_NAME);
    expect(await columnsOf(pool, 'merchant_metrics_15m')).toEqual(METRIC_COLUMNS);
    expect(await views(pool)).toEqual(expectedViews(1));
  });

  it('lets the analyst role read the views and the event store, and change nothing', async () => {
    const analyst = await pool.connect();
    const attempt = (statement: string) => analyst.query(statement).then(() => 'allowed', (e: Error) => e.message);
    try {
      await analyst.query('set role analyst');
      expect(await views(analyst)).toEqual(expectedViews(1));
      expect((await analyst.query(`select count(*)::int as n from event_store.events`)).rows).toEqual([{ n: 2 }]);
      expect(await attempt(`select count(*) from ${partitionTable(old)}`)).toBe('allowed');

      const refused: Record<string, RegExp> = {
        [`insert into event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload)
          values (0, 99, gen_random_uuid(), 'm', 'payment_failed', now(), '{}')`]: /permission denied for table events/,
        'update event_store.events set merchant_id = merchant_id': /permission denied for table events/,
        'delete from event_store.partition_heads': /permission denied for table partition_heads/,
        'update analytics.merchant_metrics_15m set gross_amount = 0': /permission denied for view merchant_metrics_15m/,
        // Views over a union: PostgreSQL refuses writes to them before it checks permissions.
        'delete from analytics.merchant_metrics_daily': /cannot delete from view "merchant_metrics_daily"/,
        [`insert into analytics.merchant_metrics_hourly (merchant_id) values ('m')`]: /cannot insert into view "merchant_metrics_hourly"/,
        'create table analytics.mine (a int)': /permission denied for schema analytics/,
        'create view analytics.mine as select 1': /permission denied for schema analytics/,
        'create table public.mine (a int)': /permission denied for schema public/,
        'create table event_store.mine (a int)': /permission denied for schema event_store/,
        'select * from rm_merchant_metrics_v1.metrics_15m': /permission denied for schema rm_merchant_metrics_v1/,
        'select * from projections.live': /permission denied for schema projections/,
        'select * from access.producer_apps': /permission denied for schema access/,
        [`select projections.refresh_analytics_views('merchant-metrics')`]: /permission denied for schema projections/,
      };
      for (const [statement, message] of Object.entries(refused)) expect(await attempt(statement), statement).toMatch(message);

      // A table a later migration adds to the event store is readable as it appears (default privileges).
      await pool.query('create table event_store.later_addition (a int)');
      try {
        await pool.query('insert into event_store.later_addition values (7)');
        expect((await analyst.query('select a from event_store.later_addition')).rows).toEqual([{ a: 7 }]);
        expect(await attempt('insert into event_store.later_addition values (8)')).toMatch(/permission denied for table later_addition/);
      } finally {
        await pool.query('drop table event_store.later_addition');
      }

      // The examples in docs/analysts.md, but for the administrator's `create role`, run as the analyst.
      const docs = readFileSync(new URL('../../../../docs/analysts.md', import.meta.url), 'utf8');
      const examples = [...docs.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((q) => !q.startsWith('create role'));
      expect(examples.length).toBeGreaterThanOrEqual(5);
      for (const example of examples) expect(await attempt(example), example).toBe('allowed');
    } finally {
      await analyst.query('reset role').catch(() => undefined);
      analyst.release();
    }
  });
});
