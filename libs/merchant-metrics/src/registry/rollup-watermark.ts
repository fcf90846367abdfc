import { assertSchemaName, type SqlClient } from '@app/projections';
import { CELL_COLUMNS, childTable, readModelPartitionsMatch, rollUpSql } from '../schema/read-model-tables.js';

/**
 * Native rollups behind a watermark, the way TimescaleDB's real-time
 * continuous aggregates work: for each event-store partition, the hourly and
 * daily rollups hold every event of its merchants below `materialized_until`
 * (a UTC midnight); above it, only the 15-minute table is written, and the
 * query and the analysts' views read it there. The projector thus writes
 * two rows per event instead of four on the live path, and the rollups of a
 * finished day are computed once, set-based.
 *
 * Every change to a partition's rollups or watermark happens under its
 * checkpoint row lock, which each of the projector's batches takes first: a
 * batch sees one watermark from start to commit, and the watermark only moves
 * between batches.
 */

/**
 * How many finished UTC days stay above the watermark: a day's rollups are
 * materialized once the day is this far behind the current one (like a
 * continuous aggregate policy's end_offset). Events that old or newer (late
 * ones from yesterday: a point of sale back online, a batch of the night's
 * payments) then cost one 15-minute row, not also an hourly and a daily
 * upsert; queries read at most this many more days of 15-minute rows.
 */
export const ROLLUP_DELAY_DAYS = 1;

const DAY_MS = 86_400_000;

/** A native version's watermarks at install: its tables are empty, so the rollups are complete below any instant. */
export async function initRollupWatermarks(client: SqlClient, schema: string, partitions: number): Promise<void> {
  await client.query(
    `insert into ${assertSchemaName(schema)}.rollup_watermark (partition, materialized_until)
     select p, date_trunc('day', now(), 'UTC') - $2::int * interval '1 day' from generate_series(0, $1::int - 1) as p`,
    [partitions, ROLLUP_DELAY_DAYS],
  );
}

/** The start of the UTC day holding `at`. */
export function utcDayStart(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
}

/** Where the watermarks belong at `now`: ROLLUP_DELAY_DAYS before the start of the current UTC day. */
export function rollupWatermarkTarget(now: Date): Date {
  return new Date(utcDayStart(now).getTime() - ROLLUP_DELAY_DAYS * DAY_MS);
}

/**
 * Moves partition `partition`'s watermark up to `until` (a UTC midnight), or
 * by at most `maxDays` days: the rollups of its merchants in [watermark, new
 * watermark) are recomputed from the 15-minute table (rows already there,
 * from a rebuild or an earlier materialization, are replaced), in one
 * transaction with the move. The partition's projector batches wait for that
 * transaction, so a caller catching up many days (a projector that was down
 * for a week) moves a day at a time. Returns false when the watermark was
 * already there (or the partition has none). `client` must be one
 * connection, outside a transaction.
 */
export async function advanceRollupWatermark(
  client: SqlClient,
  target: { projection: string; version: number; schemaName: string },
  partition: number,
  until: Date,
  storePartitions: number,
  options: { maxDays?: number } = {},
): Promise<boolean> {
  const s = assertSchemaName(target.schemaName);
  await client.query('begin');
  try {
    // The partition's batches wait here (their first statement updates this row), and this waits for
    // theirs, but not for long: a partition held up (a stuck batch) is left for the next round.
    await client.query(`set local lock_timeout = '5s'`);
    const locked = await client.query(
      `select 1 from projections.checkpoints where projection = $1 and version = $2 and partition = $3 for update`,
      [target.projection, target.version, partition],
    ).then(() => true, (error: { code?: string }) => {
      if (error.code === '55P03') return false; // lock_not_available
      throw error;
    });
    if (!locked) {
      await client.query('rollback');
      return false;
    }
    const { rows } = await client.query<{ materialized_until: Date }>(
      `select materialized_until from ${s}.rollup_watermark where partition = $1`, [partition],
    );
    const from = rows[0]?.materialized_until;
    if (from === undefined || new Date(from).getTime() >= until.getTime()) {
      await client.query('rollback');
      return false;
    }
    if (options.maxDays !== undefined) {
      until = new Date(Math.min(until.getTime(), new Date(from).getTime() + options.maxDays * DAY_MS));
    }
    // The partition's merchants: its own read-model partitions when they are the store's, else by hash.
    const own = readModelPartitionsMatch(storePartitions);
    const table = (name: string) => `${s}.${own ? childTable(name, partition) : name}`;
    const mine = own ? '' : `and satisfies_hash_partition('event_store.events'::regclass, ${storePartitions}, ${partition}, merchant_id)`;
    const range = `bucket >= $1 and bucket < $2 ${mine}`;
    const values = [new Date(from).toISOString(), until.toISOString()];
    const steps = [['metrics_hourly', 'metrics_15m', '1 hour'], ['metrics_daily', 'metrics_hourly', '1 day']] as const;
    for (const [rollup, source, width] of steps) {
      await client.query(`delete from ${table(rollup)} where ${range}`, values);
      await client.query(`insert into ${table(rollup)} (${CELL_COLUMNS}) ${rollUpSql(table(source), width, range)}`, values);
    }
    await client.query(`update ${s}.rollup_watermark set materialized_until = $2 where partition = $1`, [partition, until.toISOString()]);
    await client.query('commit');
    return true;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}
