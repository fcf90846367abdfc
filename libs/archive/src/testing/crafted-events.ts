import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { partitionOf, partitionTable, type NewEvent } from '@app/event-store';

/** An event to store with a recorded_at of the test's choosing. */
export interface CraftedEvent {
  merchantId: string;
  recordedAt: string;
  amount?: number;
  currency?: string;
  /** payment_completed unless refunded. */
  refunded?: boolean;
  /** Free text added to the payload, to test escaping. */
  note?: string;
}

export interface StoredCraftedEvent extends NewEvent {
  partition: number;
  position: number;
  recordedAt: string;
  amount: number;
}

/**
 * Stores events as an append would (event_ids claimed, positions from the
 * partition heads, in the order given) but with the given recorded_at, which
 * an append takes from its transaction's clock: the archive cuts by
 * recorded_at, so its tests need years-old events and out-of-order ones.
 * Inserts only, as the owner: the store refuses nothing here. occurred_at is
 * a minute before recorded_at.
 */
export async function storeCraftedEvents(pool: pg.Pool, partitions: number, events: CraftedEvent[]): Promise<StoredCraftedEvent[]> {
  const stored: StoredCraftedEvent[] = [];
  const client = await pool.connect();
  try {
    await client.query('begin');
    for (const event of events) {
      const eventId = randomUUID();
      const partition = partitionOf(event.merchantId, partitions);
      const amount = event.amount ?? 1000;
      const occurredAt = new Date(Date.parse(event.recordedAt) - 60_000).toISOString();
      const type = event.refunded ? 'payment_refunded' : 'payment_completed';
      const body = {
        paymentId: `p-${eventId.slice(0, 8)}`,
        ...(event.refunded ? { refundId: `r-${eventId.slice(0, 8)}` } : { customerId: 'c-1' }),
        storeId: 's-1',
        method: 'PAYMENT_METHOD_CARD',
        amount: { currency: event.currency ?? 'JPY', minorUnits: String(amount) },
        ...(event.note === undefined ? {} : { note: event.note }),
      };
      const payloadJson = JSON.stringify({
        eventId, merchantId: event.merchantId, occurredAt, [event.refunded ? 'paymentRefunded' : 'paymentCompleted']: body,
      });
      const bodyHash = createHash('sha256').update(payloadJson).digest();
      const { rows } = await client.query<{ head: string }>(
        'update event_store.partition_heads set head = head + 1 where partition = $1 returning head', [partition],
      );
      const position = Number(rows[0]!.head);
      await client.query('insert into event_store.event_ids (event_id, body_hash) values ($1, $2)', [eventId, bodyHash]);
      await client.query(
        `insert into ${partitionTable(partition)} (partition, position, event_id, merchant_id, event_type, occurred_at, recorded_at, payload)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [partition, position, eventId, event.merchantId, type, occurredAt, event.recordedAt, payloadJson],
      );
      stored.push({ eventId, merchantId: event.merchantId, type, occurredAt, payloadJson, bodyHash, partition, position, recordedAt: event.recordedAt, amount });
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
  return stored;
}

/** Merchant ids whose events go to distinct partitions, `count` of them. */
export function merchantsInDistinctPartitions(count: number, partitions: number, prefix = 'm-arch'): string[] {
  const found = new Map<number, string>();
  for (let i = 0; found.size < count; i++) {
    const merchant = `${prefix}-${i}`;
    const partition = partitionOf(merchant, partitions);
    if (!found.has(partition)) found.set(partition, merchant);
  }
  return [...found.values()];
}

/** Every column of a partition's rows as text, in position order: what "the store equals the original" compares. */
export async function partitionSnapshot(pool: pg.Pool, partition: number): Promise<string[]> {
  const { rows } = await pool.query<{ row: string }>(
    `select row(partition, position, event_id, merchant_id, event_type, occurred_at, recorded_at, payload, producer_app_id, request_id)::text as row
     from ${partitionTable(partition)} order by position`,
  );
  return rows.map((r) => r.row);
}
