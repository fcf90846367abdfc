import type pg from 'pg';
import { inTransaction } from '@app/database';
import { EventConflictError, type AppendResult, type AppendedRange, type NewEvent } from './new-event.js';
import { PartitionRouter } from './partition-routing.js';

/** Loads the partition count fixed at install time. */
export async function readPartitionCount(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ value: string }>(`select value from event_store.settings where key = 'partitions'`);
  if (rows.length === 0) throw new Error('event store not migrated: event_store.settings has no partition count');
  return Number(rows[0].value);
}

export function partitionTable(partition: number): string {
  return `event_store.events_p${String(partition).padStart(2, '0')}`;
}

/**
 * Appends events to the store in one transaction.
 *
 * Idempotency: every event id is claimed in `event_ids` first; an id already
 * there is a duplicate when its body hash matches and a conflict otherwise.
 * Ordering: each partition's positions come from its `partition_heads` row,
 * locked (in partition order, so appends cannot deadlock) until commit. Appends
 * to one partition are therefore serialized and commit in position order with
 * no holes, and a reader that follows `position > checkpoint` never skips an
 * event committed late.
 */
export class EventStore {
  readonly router: PartitionRouter;

  constructor(private readonly pool: pg.Pool, partitions: number) {
    this.router = new PartitionRouter(partitions);
  }

  get partitions(): number {
    return this.router.partitions;
  }

  async append(events: NewEvent[]): Promise<AppendResult> {
    const unique = dedupeBatch(events);
    const inBatchDuplicates = events.length - unique.length;
    // Claiming ids in a fixed order keeps two overlapping batches from deadlocking.
    unique.sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));

    return inTransaction(this.pool, async (client) => {
      const claimed = await this.claimIds(client, unique);
      const fresh = unique.filter((e) => claimed.has(e.eventId));
      const repeated = unique.filter((e) => !claimed.has(e.eventId));
      if (repeated.length > 0) await this.checkDuplicates(client, repeated);
      const ranges = fresh.length > 0 ? await this.insert(client, fresh) : [];
      return { accepted: fresh.length, duplicates: repeated.length + inBatchDuplicates, ranges };
    });
  }

  private async claimIds(client: pg.PoolClient, events: NewEvent[]): Promise<Set<string>> {
    const { rows } = await client.query<{ event_id: string }>({
      name: 'event-store-claim-ids',
      text: `insert into event_store.event_ids (event_id, body_hash)
             select * from unnest($1::uuid[], $2::bytea[])
             on conflict (event_id) do nothing
             returning event_id`,
      values: [events.map((e) => e.eventId), events.map((e) => e.bodyHash)],
    });
    return new Set(rows.map((r) => r.event_id));
  }

  private async checkDuplicates(client: pg.PoolClient, events: NewEvent[]): Promise<void> {
    const { rows } = await client.query<{ event_id: string; body_hash: Buffer }>({
      name: 'event-store-stored-hashes',
      text: `select event_id, body_hash from event_store.event_ids where event_id = any($1::uuid[])`,
      values: [events.map((e) => e.eventId)],
    });
    const stored = new Map(rows.map((r) => [r.event_id, r.body_hash]));
    const conflicts = events.filter((e) => !stored.get(e.eventId)?.equals(e.bodyHash)).map((e) => e.eventId);
    if (conflicts.length > 0) throw new EventConflictError(conflicts);
  }

  private async insert(client: pg.PoolClient, events: NewEvent[]): Promise<AppendedRange[]> {
    const byPartition = new Map<number, NewEvent[]>();
    for (const event of events) {
      const p = this.router.partitionOf(event.merchantId);
      const group = byPartition.get(p);
      if (group) group.push(event);
      else byPartition.set(p, [event]);
    }
    const partitions = [...byPartition.keys()].sort((a, b) => a - b);

    await client.query({
      name: 'event-store-lock-heads',
      text: `select partition from event_store.partition_heads
             where partition = any($1::int2[]) order by partition for update`,
      values: [partitions],
    });
    const { rows: heads } = await client.query<{ partition: number; head: string }>({
      name: 'event-store-advance-heads',
      text: `update event_store.partition_heads h set head = h.head + v.n
             from unnest($1::int2[], $2::int8[]) v(p, n)
             where h.partition = v.p
             returning h.partition, h.head`,
      values: [partitions, partitions.map((p) => byPartition.get(p)!.length)],
    });

    const ranges: AppendedRange[] = [];
    const columns = { partition: [] as number[], position: [] as number[], eventId: [] as string[], merchantId: [] as string[], type: [] as string[], occurredAt: [] as string[], payload: [] as string[] };
    for (const { partition, head } of heads) {
      const group = byPartition.get(partition)!;
      const toPosition = Number(head);
      const fromPosition = toPosition - group.length + 1;
      ranges.push({ partition, fromPosition, toPosition });
      group.forEach((event, i) => {
        columns.partition.push(partition);
        columns.position.push(fromPosition + i);
        columns.eventId.push(event.eventId);
        columns.merchantId.push(event.merchantId);
        columns.type.push(event.type);
        columns.occurredAt.push(event.occurredAt);
        columns.payload.push(event.payloadJson);
      });
    }
    await client.query({
      name: 'event-store-insert-events',
      text: `insert into event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload)
             select * from unnest($1::int2[], $2::int8[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[])`,
      values: [columns.partition, columns.position, columns.eventId, columns.merchantId, columns.type, columns.occurredAt, columns.payload],
    });
    return ranges.sort((a, b) => a.partition - b.partition);
  }
}

/** Keeps the first of repeated ids in one batch; a repeat with another body is a conflict. */
function dedupeBatch(events: NewEvent[]): NewEvent[] {
  const seen = new Map<string, NewEvent>();
  const conflicts: string[] = [];
  for (const event of events) {
    const first = seen.get(event.eventId);
    if (!first) seen.set(event.eventId, event);
    else if (!first.bodyHash.equals(event.bodyHash)) conflicts.push(event.eventId);
  }
  if (conflicts.length > 0) throw new EventConflictError([...new Set(conflicts)]);
  return [...seen.values()];
}
