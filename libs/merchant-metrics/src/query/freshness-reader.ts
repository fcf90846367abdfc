import { partitionOf, partitionTable } from '@app/event-store';
import { type SqlClient, NoLiveVersionError } from '@app/projections';
import { PROJECTION_NAME } from '../projection/merchant-metrics.projection.js';
import type { Freshness } from './metrics-query.js';
import { freshnessColumnsSql, REPLAYED_AT_SQL, type FreshnessColumns } from './metrics-sql.js';

interface FreshnessRow {
  version: number | null;
  as_of: Date;
  now: Date;
  replayed_at: Date | null;
}

/**
 * How fresh a merchant's answer is: the watermark of the projection on the
 * merchant's event-store partition. When the checkpoint has reached the
 * partition's head, everything stored is in (asOf = now). Otherwise asOf is
 * when the first event not yet projected was recorded: appends to a partition
 * are serialized, so the events before it were recorded no later (up to the
 * moment an append waited for the partition's lock: recorded_at is its
 * transaction's start). All instants come from the database clock, in one
 * statement, so app and database clocks cannot skew the lag.
 *
 * `version` defaults to the live version. `partitions` is the event store's
 * partition count (readPartitionCount from @app/event-store).
 */
export async function readFreshness(client: SqlClient, merchantId: string, partitions: number, version?: number): Promise<Freshness> {
  const partition = partitionOf(merchantId, partitions);
  const events = `event_store.events_p${String(partition).padStart(2, '0')}`;
  const { rows } = await client.query<FreshnessRow>(
    `with v as (
       select coalesce($2::int, (select version from projections.live where projection = $1)) as version
     ), c as (
       select k.position, k.recorded_at
         from projections.checkpoints k, v
        where k.projection = $1 and k.version = v.version and k.partition = $3::smallint
     )
     select v.version,
            case when coalesce(c.position, 0) >= h.head then now()
                 else coalesce((select e.recorded_at from ${events} e where e.position = coalesce(c.position, 0) + 1), c.recorded_at, now())
            end as as_of,
            now() as now, ${REPLAYED_AT_SQL} as replayed_at
       from v
       join event_store.partition_heads h on h.partition = $3::smallint
       left join c on true`,
    [PROJECTION_NAME, version ?? null, partition],
  );
  const row = rows[0];
  if (row === undefined) throw new Error(`event store partition ${partition} has no head row`);
  if (row.version === null) throw new NoLiveVersionError(`projection ${PROJECTION_NAME} has no live version`);
  return freshnessAt(new Date(row.as_of), new Date(row.now), row.replayed_at, Number(row.version));
}

/**
 * The freshness of an answer read at `now` that holds everything recorded
 * before `asOf`; on a standby (`replayedAt` set) no later than its last
 * replayed commit, with the standby's lag beside it.
 */
function freshnessAt(asOf: Date, now: Date, replayedAt: Date | null, version: number): Freshness {
  const lag = (from: Date) => Math.max(0, (now.getTime() - from.getTime()) / 1000);
  if (replayedAt === null || replayedAt === undefined) return { asOf, lagSeconds: lag(asOf), version };
  const replayed = new Date(replayedAt);
  const held = replayed < asOf ? replayed : asOf;
  return { asOf: held, lagSeconds: lag(held), version, replicaLagSeconds: lag(replayed) };
}

/**
 * Freshness from a partition head and a checkpoint read in the same statement
 * as the metrics (metricsSql with `freshness`), with readFreshness's rules:
 * caught up means asOf = the statement's now(); otherwise asOf is when the
 * first event after the checkpoint was recorded. Events never change, so that
 * event may be read after the statement that saw the checkpoint.
 */
export async function freshnessFrom(
  client: SqlClient,
  partition: number,
  version: number,
  row: { head: string; position: string; checkpoint_recorded_at: Date | null; now: Date; replayed_at?: Date | null },
): Promise<Freshness> {
  const now = new Date(row.now);
  let asOf = now;
  const position = BigInt(row.position);
  if (position < BigInt(row.head)) {
    const { rows } = await client.query<{ recorded_at: Date }>(`select recorded_at from ${partitionTable(partition)} where position = $1`, [
      String(position + 1n),
    ]);
    const recordedAt = rows[0]?.recorded_at ?? row.checkpoint_recorded_at;
    if (recordedAt !== null && recordedAt !== undefined) asOf = new Date(recordedAt);
  }
  return freshnessAt(asOf, now, row.replayed_at ?? null, version);
}

/**
 * The merchant's data watermark in `live` (its row of merchant_watermarks:
 * the position of its latest event the version holds; null without one) and
 * the answer's freshness, from one small statement: what a cached answer needs
 * to be served again (valid while the watermark has not moved).
 */
export async function readMerchantWatermark(
  client: SqlClient,
  live: { schemaName: string; version: number },
  partitions: number,
  merchantId: string,
): Promise<{ watermark: string | null; freshness: Freshness }> {
  if (!/^[a-z_][a-z0-9_]*$/.test(live.schemaName)) throw new Error(`invalid read-model schema name "${live.schemaName}"`);
  const partition = partitionOf(merchantId, partitions);
  const { rows } = await client.query<FreshnessColumns>(freshnessColumnsSql(live.schemaName, 2), [merchantId, PROJECTION_NAME, live.version, partition]);
  const row = rows[0];
  if (row === undefined) throw new Error(`event store partition ${partition} has no head row`);
  return { watermark: row.watermark, freshness: await freshnessFrom(client, partition, live.version, row) };
}
