import type { SqlClient } from '../sql-client.js';

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
