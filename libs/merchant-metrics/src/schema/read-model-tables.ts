import { createSketchFunctions } from '@app/sketches';
import { assertSchemaName, createVersionSchema, grantVersionTables, type ReadModelEngine, type SqlClient } from '@app/projections';
import { hypertableChunk, SKETCH_TABLES, sketchKey, sketchTableColumns } from './sketch-tables.js';

/**
 * Which tables a version has. `customer-sets` (v1, v2): sums per 15-minute,
 * hourly and daily cell plus the exact set of customers per 15-minute cell
 * (`customers_15m`). `sketches` (v3): sums and a customer sketch in every row,
 * at three grains, with and without dimensions (schema/sketch-tables.ts).
 */
export type ReadModelLayout = 'customer-sets' | 'sketches';

/** Partitions of each native read-model table; merchants spread by hash like the event store. */
const NATIVE_PARTITIONS = 16;

const DIMENSIONS = `
  merchant_id    text collate "C" not null,
  bucket         timestamptz not null,
  currency       text collate "C" not null,
  payment_method text collate "C" not null,
  store_id       text collate "C" not null`;

const SUMS = `
  completed_count bigint not null,
  gross_amount    bigint not null,
  refund_count    bigint not null,
  refund_amount   bigint not null,
  failed_count    bigint not null`;

const KEY = 'merchant_id, bucket, currency, payment_method, store_id';
const SUM_NAMES = ['completed_count', 'gross_amount', 'refund_count', 'refund_amount', 'failed_count'];

/** The metric tables' key, their sums, and all their columns, in table order. */
export const CELL_KEY = KEY;
export const CELL_SUMS = SUM_NAMES.join(', ');
export const CELL_COLUMNS = `${KEY}, ${CELL_SUMS}`;

/** The ON CONFLICT clause of an INSERT into a metric table aliased `t`: an existing cell's sums add up. */
export const ADD_TO_CELLS = `on conflict (${KEY}) do update set ${SUM_NAMES.map((c) => `${c} = t.${c} + excluded.${c}`).join(', ')}`;

/** The origin of every grid: a UTC midnight, so 15-minute, hourly and daily buckets are UTC ones. */
export const UTC_EPOCH = `timestamptz '2000-01-01 00:00:00+00'`;

/**
 * A SELECT of the cells of `source` (a relation with the metric columns), summed onto the coarser UTC
 * grid `width`: the native rollups' definition, wherever they are written (projector, rebuild, watermark).
 */
export function rollUpSql(source: string, width: '1 hour' | '1 day', where?: string): string {
  return `select merchant_id, date_bin('${width}', bucket, ${UTC_EPOCH}), currency, payment_method, store_id,
                 ${SUM_NAMES.map((c) => `sum(${c})::bigint`).join(', ')}
          from ${source} ${where ? `where ${where}` : ''} group by 1, 2, 3, 4, 5`;
}

const PAYMENTS = `
  merchant_id text collate "C" not null,
  payment_id  text collate "C" not null,
  bucket      timestamptz not null`;

/**
 * Creates one read-model version's tables in its own schema. The relation
 * names are the same on both engines, so one query path serves both:
 * - metrics_15m: the base table, 15-minute UTC buckets (every zone offset is a
 *   multiple of 15 minutes, so any zone's hours, days, weeks and months are
 *   exact sums of these buckets);
 * - metrics_hourly, metrics_daily: UTC rollups; continuous aggregates on
 *   TimescaleDB (real-time, hierarchical), projector-maintained tables otherwise;
 * - customers_15m: the exact set of paying customers per bucket and dimensions;
 * - payments: each completed payment's bucket, for versions whose logic looks
 *   payments up (version 2 puts a refund in its payment's bucket).
 */
export async function createReadModelTables(
  client: SqlClient,
  schema: string,
  engine: ReadModelEngine,
  options: { deferKeys?: boolean; layout?: ReadModelLayout } = {},
): Promise<void> {
  await createVersionSchema(client, schema);
  await createReadModelRelations(client, schema, engine, options);
  await grantVersionTables(client, schema);
}

/** createReadModelTables's tables in a schema that exists (installVersion made it). */
export async function createReadModelRelations(
  client: SqlClient,
  schema: string,
  engine: ReadModelEngine,
  options: { deferKeys?: boolean; layout?: ReadModelLayout } = {},
): Promise<void> {
  const s = assertSchemaName(schema);
  const layout = options.layout ?? 'customer-sets';
  if (layout === 'sketches') {
    if (engine === 'timescaledb') await createTimescaleSketchTables(client, s);
    else await createNativeTables(client, s, layout, options.deferKeys ?? false);
    // For analysts (psql): customer_hash, sketch_estimate, sketch_is_exact, sketch_union.
    await createSketchFunctions(client, s);
  } else if (engine === 'timescaledb') await createTimescaleTables(client, s);
  else await createNativeTables(client, s, layout, options.deferKeys ?? false);
  await client.query(ROLLUP_WATERMARK_TABLE(s));
  await client.query(MERCHANT_WATERMARKS_TABLE(s));
}

/**
 * Per merchant, the position (in its event-store partition) of its latest
 * event in this version: it changes exactly when the merchant's data changes,
 * so an answer computed at one watermark stays right while the watermark
 * stays (the query API's answer cache, the REST ETag). Written with every
 * batch by the projector and every chunk by the rebuild, in the transaction
 * that moves the checkpoint. A merchant without a row has no known watermark
 * (a version installed before the table existed): its answers are not cached.
 */
export const MERCHANT_WATERMARKS_TABLE = (s: string) =>
  `create table if not exists ${s}.merchant_watermarks (
     merchant_id text collate "C" primary key,
     partition   smallint not null,
     position    bigint   not null
   )`;

/**
 * An INSERT of merchant watermarks (merchant_id, partition, position) from `source`, a SELECT in
 * which $1 is the partition; by default $2 the merchant ids and $3 their latest positions. A
 * merchant's row only ever moves forward.
 */
export const UPSERT_MERCHANT_WATERMARKS = (s: string, source = 'select m, $1::smallint, p from unnest($2::text[], $3::bigint[]) as u(m, p)') =>
  `insert into ${s}.merchant_watermarks as t (merchant_id, partition, position) ${source}
   on conflict (merchant_id) do update set position = greatest(t.position, excluded.position)`;

/**
 * The version's schema. A login that may create schemas (the database owner, a
 * superuser: the ops CLI, tests) creates it; the projector's login may not, and
 * asks projections.create_version_schema, which creates the schema of a version
 * registered as building, owned by projection_writer
 * (migrations/2026-12-02T01-00-least-privilege.ts).
 */
/**
 * Per event-store partition, the instant below which the native hourly and
 * daily rollups hold every event of the partition's merchants
 * (registry/rollup-watermark.ts). No row means no watermark: the rollups are
 * then complete everywhere (TimescaleDB, and tables made without one). Both
 * engines have the table, so the query's SQL is the same on both.
 */
export const ROLLUP_WATERMARK_TABLE = (s: string) =>
  `create table if not exists ${s}.rollup_watermark (partition smallint primary key, materialized_until timestamptz not null)`;

/** The native table `name`'s hash partition `partition`. */
export const childTable = (name: string, partition: number) => `${name}_p${String(partition).padStart(2, '0')}`;

/**
 * The rollups' keys carry their sums (INCLUDE), so that a merchant's rows are
 * read by index-only scans: rows are written in time order across all
 * merchants, so without it every row of a long range is its own heap page
 * (bench:query's statements cost 22% less PostgreSQL CPU with it). The
 * 15-minute table's key does not: the projector updates its cells in place
 * (HOT, no new index entry), which sums in the key would prevent; the rollups
 * are written once per finished day, set-based (rollup-watermark.ts).
 */
const COVERING_KEY = `${KEY}) include (${CELL_SUMS}`;

/** The native tables: name, columns, primary key (as it goes between the parentheses of `primary key (…)`). */
type NativeTable = readonly [string, string, string];
const CUSTOMER_SET_TABLES: readonly NativeTable[] = [
  ['metrics_15m', `${DIMENSIONS},${SUMS}`, KEY],
  ['metrics_hourly', `${DIMENSIONS},${SUMS}`, COVERING_KEY],
  ['metrics_daily', `${DIMENSIONS},${SUMS}`, COVERING_KEY],
  ['customers_15m', `${DIMENSIONS}, customer_id text collate "C" not null`, `${KEY}, customer_id`],
  ['payments', PAYMENTS, 'merchant_id, payment_id'],
];

/**
 * v3's tables. No covering keys: every row also carries its customer sketch,
 * which a query reading sums with customers takes from the heap anyway, and
 * the projector updates rows in place (HOT, no index entry per update).
 */
const SKETCH_NATIVE_TABLES: readonly NativeTable[] = [
  ...SKETCH_TABLES.map((t) => [t.name, sketchTableColumns(t), sketchKey(t).join(', ')] as const),
  ['payments', PAYMENTS, 'merchant_id, payment_id'],
];

const nativeTables = (layout: ReadModelLayout): readonly NativeTable[] =>
  layout === 'sketches' ? SKETCH_NATIVE_TABLES : CUSTOMER_SET_TABLES;

/**
 * With `deferKeys` (a rebuild's fresh version), the native tables are created
 * without their primary keys: bulk inserts then skip index maintenance, and
 * `addMissingReadModelKeys` builds each index once, sorted, at the end. The
 * upserts of the projector need the keys, so no projector follows a version
 * before that (only catching_up and live ones).
 */
async function createNativeTables(client: SqlClient, s: string, layout: ReadModelLayout, deferKeys: boolean): Promise<void> {
  for (const [name, columns, key] of nativeTables(layout)) {
    await client.query(`create table ${s}.${name} (${columns}${deferKeys ? '' : `, primary key (${key})`}) partition by hash (merchant_id)`);
    for (let p = 0; p < NATIVE_PARTITIONS; p++) {
      const child = childTable(name, p);
      await client.query(
        `create table ${s}.${child} partition of ${s}.${name} for values with (modulus ${NATIVE_PARTITIONS}, remainder ${p})`,
      );
    }
  }
}

function rollupSelect(source: string, width: string): string {
  return `select merchant_id, time_bucket(interval '${width}', bucket) as bucket, currency, payment_method, store_id,
            sum(completed_count) as completed_count, sum(gross_amount) as gross_amount,
            sum(refund_count) as refund_count, sum(refund_amount) as refund_amount,
            sum(failed_count) as failed_count
          from ${source}
          group by merchant_id, time_bucket(interval '${width}', bucket), currency, payment_method, store_id`;
}

async function createTimescaleTables(client: SqlClient, s: string): Promise<void> {
  for (const [name, columns, key] of [
    ['metrics_15m', `${DIMENSIONS},${SUMS}`, KEY],
    ['customers_15m', `${DIMENSIONS}, customer_id text collate "C" not null`, `${KEY}, customer_id`],
  ]) {
    await client.query(`create table ${s}.${name} (${columns}, primary key (${key}))`);
    await client.query(`select create_hypertable('${s}.${name}', by_range('bucket', interval '7 days'))`);
    await client.query(
      `alter table ${s}.${name} set (timescaledb.compress, timescaledb.compress_segmentby = 'merchant_id', timescaledb.compress_orderby = 'bucket')`,
    );
    await client.query(`select add_compression_policy('${s}.${name}', interval '30 days')`);
  }
  // A lookup table, not a time series: a plain table on TimescaleDB too.
  await client.query(`create table ${s}.payments (${PAYMENTS}, primary key (merchant_id, payment_id))`);
  // Real-time (materialized_only = false): answers include rows not yet materialized.
  await client.query(
    `create materialized view ${s}.metrics_hourly with (timescaledb.continuous, timescaledb.materialized_only = false)
     as ${rollupSelect(`${s}.metrics_15m`, '1 hour')} with no data`,
  );
  await client.query(
    `create materialized view ${s}.metrics_daily with (timescaledb.continuous, timescaledb.materialized_only = false)
     as ${rollupSelect(`${s}.metrics_hourly`, '1 day')} with no data`,
  );
  await client.query(
    `select add_continuous_aggregate_policy('${s}.metrics_hourly', start_offset => interval '400 days', end_offset => interval '15 minutes', schedule_interval => interval '1 minute')`,
  );
  await client.query(
    `select add_continuous_aggregate_policy('${s}.metrics_daily', start_offset => interval '400 days', end_offset => interval '1 hour', schedule_interval => interval '5 minutes')`,
  );
}

/**
 * v3 on TimescaleDB: the same tables as hypertables, compressed after 30 days,
 * all written by the projector. Continuous aggregates cannot merge customer
 * sketches without an extension (docs/decisions/0008-customer-sketches.md),
 * so v3 keeps its rollups itself on both engines, as the native engine
 * always did.
 */
async function createTimescaleSketchTables(client: SqlClient, s: string): Promise<void> {
  for (const t of SKETCH_TABLES) {
    await client.query(`create table ${s}.${t.name} (${sketchTableColumns(t)}, primary key (${sketchKey(t).join(', ')}))`);
    await client.query(`select create_hypertable('${s}.${t.name}', by_range('bucket', interval '${hypertableChunk(t)}'))`);
    await client.query(
      `alter table ${s}.${t.name} set (timescaledb.compress, timescaledb.compress_segmentby = 'merchant_id', timescaledb.compress_orderby = 'bucket')`,
    );
    await client.query(`select add_compression_policy('${s}.${t.name}', interval '30 days')`);
  }
  await client.query(`create table ${s}.payments (${PAYMENTS}, primary key (merchant_id, payment_id))`);
}

/**
 * Adds the primary keys `createReadModelTables` deferred: first each
 * partition's own (80 sorted index builds, shared out over `clients`, one
 * statement per connection at a time), then each table's, which adopts the
 * partitions' keys instead of building anything. Keys that exist are left
 * alone, so it is safe to rerun after an interruption. Autovacuum gathers the
 * planner's statistics soon after.
 */
export async function addMissingReadModelKeys(
  clients: readonly SqlClient[], schema: string, engine: ReadModelEngine, layout: ReadModelLayout = 'customer-sets',
): Promise<void> {
  const s = assertSchemaName(schema);
  if (engine !== 'postgres') return;
  const NATIVE_TABLES = nativeTables(layout);
  const work = async (tasks: Array<{ table: string; key: string }>) => {
    await Promise.all(clients.map(async (client) => {
      for (let t = tasks.shift(); t !== undefined; t = tasks.shift()) {
        if (!(await hasKey(client, t.table))) await client.query(`alter table ${t.table} add primary key (${t.key})`);
      }
    }));
  };
  const parents = NATIVE_TABLES.map(([name, , key]) => ({ table: `${s}.${name}`, key }));
  if (await hasKey(clients[0], parents[parents.length - 1].table)) return; // added last: every key exists
  await work(NATIVE_TABLES.flatMap(([name, , key]) =>
    Array.from({ length: NATIVE_PARTITIONS }, (_, p) => ({ table: `${s}.${childTable(name, p)}`, key }))));
  await work(parents);
}

async function hasKey(client: SqlClient, table: string): Promise<boolean> {
  return (await client.query(`select 1 from pg_constraint where conrelid = $1::regclass and contype = 'p'`, [table])).rows.length > 0;
}

/** False while a version's native tables still lack the primary keys their creation deferred. */
export async function hasReadModelKeys(client: SqlClient, schema: string): Promise<boolean> {
  // metrics_15m is the first table of both layouts.
  return hasKey(client, `${assertSchemaName(schema)}.metrics_15m`);
}

/**
 * The native tables' partitions follow the event store's when both have
 * NATIVE_PARTITIONS partitions (same hash of merchant_id, same modulus):
 * read-model partition `p` then holds exactly event-store partition `p`'s merchants.
 */
export function readModelPartitionsMatch(eventStorePartitions: number): boolean {
  return eventStorePartitions === NATIVE_PARTITIONS;
}

/**
 * Within the transaction that just filled read-model partition `partition`
 * of deferred-key tables: its primary keys, built from rows this transaction
 * wrote (sorted once, no index maintenance per row, no second pass later).
 */
export async function addPartitionKeys(
  client: SqlClient, schema: string, partition: number, layout: ReadModelLayout = 'customer-sets',
): Promise<void> {
  const s = assertSchemaName(schema);
  for (const [name, , key] of nativeTables(layout)) await client.query(`alter table ${s}.${childTable(name, partition)} add primary key (${key})`);
}

