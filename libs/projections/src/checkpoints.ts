import { partitionTable } from '@app/event-store';
import type { SqlClient } from './sql-client.js';

export interface Checkpoint {
  partition: number;
  position: number;
  recordedAt: Date | null;
  events: number;
}

export async function readCheckpoints(client: SqlClient, projection: string, version: number): Promise<Checkpoint[]> {
  const { rows } = await client.query<{ partition: number; position: string; recorded_at: Date | null; events: string }>(
    `select partition, position, recorded_at, events from projections.checkpoints
     where projection = $1 and version = $2 order by partition`,
    [projection, version],
  );
  return rows.map((r) => ({
    partition: Number(r.partition),
    position: Number(r.position),
    recordedAt: r.recorded_at === null ? null : new Date(r.recorded_at),
    events: Number(r.events),
  }));
}

/** A batch would leave a hole: the caller must first read the missing positions from the store. */
export class PositionGapError extends Error {
  override readonly name = 'PositionGapError';
}

/** Another process moved the checkpoint: this worker's view is stale and its batch must not be applied. */
export class CheckpointMovedError extends Error {
  override readonly name = 'CheckpointMovedError';
}

/**
 * Compare-and-set of one partition's checkpoint, first statement of the
 * batch's transaction: it locks the row, so a second owner of the partition
 * (a lease that expired under a long pause) waits here and then fails,
 * instead of applying the same events twice.
 */
export async function advanceCheckpoint(
  client: SqlClient,
  target: { projection: string; version: number; partition: number },
  expected: number,
  next: { position: number; recordedAt: string; events: number },
): Promise<void> {
  const { rows } = await client.query(
    `update projections.checkpoints
     set position = $5, recorded_at = $6, events = events + $7, updated_at = now()
     where projection = $1 and version = $2 and partition = $3 and position = $4
     returning position`,
    [target.projection, target.version, target.partition, expected, next.position, next.recordedAt, next.events],
  );
  if (rows.length === 0) {
    throw new CheckpointMovedError(
      `checkpoint of ${target.projection} v${target.version} partition ${target.partition} is no longer ${expected}`,
    );
  }
}

/** One partition's checkpoint position; throws when the version has no row for it. */
export async function readCheckpoint(client: SqlClient, projection: string, version: number, partition: number): Promise<number> {
  const { rows } = await client.query<{ position: string }>(
    `select position from projections.checkpoints where projection = $1 and version = $2 and partition = $3`,
    [projection, version, partition],
  );
  if (!rows[0]) throw new Error(`${projection} v${version} has no checkpoint row for partition ${partition}`);
  return Number(rows[0].position);
}

export interface PartitionProgress {
  partition: number;
  /** Newest stored position of the partition. */
  head: number;
  /** Newest position the version has applied (0 without a checkpoint row). */
  checkpoint: number;
}

/** Every event-store partition's head beside the version's checkpoint, in partition order. */
export async function readPartitionProgress(client: SqlClient, projection: string, version: number): Promise<PartitionProgress[]> {
  const { rows } = await client.query<{ partition: number; head: string; position: string }>(
    `select h.partition, h.head, coalesce(c.position, 0) as position
       from event_store.partition_heads h
       left join projections.checkpoints c on c.projection = $1 and c.version = $2 and c.partition = h.partition
      order by h.partition`,
    [projection, version],
  );
  return rows.map((r) => ({ partition: Number(r.partition), head: Number(r.head), checkpoint: Number(r.position) }));
}

/**
 * Seconds since the store recorded the event at `checkpoint + 1` (the oldest
 * one the version still waits for), on the database's clock; undefined when
 * the store has no such event.
 */
export async function oldestWaitingAge(client: SqlClient, partition: number, checkpoint: number): Promise<number | undefined> {
  const { rows } = await client.query<{ age: number }>(
    `select extract(epoch from now() - recorded_at)::float8 as age from ${partitionTable(partition)} where position = $1`,
    [checkpoint + 1],
  );
  return rows[0] ? Math.max(0, Number(rows[0].age)) : undefined;
}
