import type pg from 'pg';
import { partitionTable } from './event-store.js';

/** A stored event as the relay and replays read it: payload kept as JSON text, never re-parsed. */
export interface StoredEventRow {
  position: number;
  /** recorded_at as RFC 3339 UTC with microseconds. */
  recordedAt: string;
  payloadJson: string;
}

/**
 * Reads one partition in position order after a checkpoint. Safe against
 * late commits because appends serialize per partition (see EventStore).
 */
export async function readPartition(
  client: pg.Pool | pg.PoolClient,
  partition: number,
  afterPosition: number,
  limit: number,
): Promise<StoredEventRow[]> {
  const { rows } = await client.query<{ position: string; recorded_at: string; payload: string }>({
    name: `event-store-read-p${partition}`,
    text: `select position, to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as recorded_at, payload::text
           from ${partitionTable(partition)}
           where position > $1 order by position limit $2`,
    values: [afterPosition, limit],
  });
  return rows.map((r) => ({ position: Number(r.position), recordedAt: r.recorded_at, payloadJson: r.payload }));
}
