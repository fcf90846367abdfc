import type pg from 'pg';
import { readPartition, type StoredEventRow } from '@app/event-store';
import type { PaymentEventJson, PositionedEvent } from './payment-event.json.js';

/**
 * Where readers from a checkpoint get a partition's events: the hot store,
 * or the cold archive for the ranges moved there. Same contract as
 * readPartition: position order, after `afterPosition`, at most `limit`.
 */
export interface EventSource {
  read(partition: number, afterPosition: number, limit: number): Promise<PositionedEvent[]>;
  /**
   * The last position of the partition the hot store no longer holds (moved
   * to the cold archive); absent or 0: the store holds every position. A set-
   * based fold reads the store's tables only, so a rebuild replays positions
   * up to here through `read` first.
   */
  removedThrough?(partition: number): Promise<number>;
}

export function positioned(row: StoredEventRow): PositionedEvent {
  return { position: row.position, recordedAt: row.recordedAt, event: JSON.parse(row.payloadJson) as PaymentEventJson };
}

/** The event store's partitions. */
export function readStoredEvents(pool: pg.Pool | pg.PoolClient): EventSource {
  return { read: async (partition, after, limit) => (await readPartition(pool, partition, after, limit)).map(positioned) };
}
