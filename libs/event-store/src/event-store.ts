import type pg from 'pg';
import { inTransaction } from '@app/database';
import { EventConflictError, type AppendResult, type AppendedRange, type CommittedRun, type NewEvent } from './new-event.js';
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

export interface EventStoreOptions {
  /** Appends committed at once (each holds one pooled connection). */
  maxConcurrentAppends?: number;
  /** Upper bound on the events of concurrent requests merged into one transaction. */
  maxGroupEvents?: number;
}

interface PendingAppend {
  events: NewEvent[];
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/** A request of a merged group conflicts with a stored event: the group is retried one request at a time. */
class GroupConflict extends Error {}

/**
 * Appends events to the store.
 *
 * Idempotency: every event id is claimed in `event_ids` first; an id already
 * there is a duplicate when its body hash matches and a conflict otherwise.
 * Ordering: each partition's positions come from its `partition_heads` row,
 * locked (in partition order, so appends cannot deadlock) until commit. Appends
 * to one partition are therefore serialized and commit in position order with
 * no holes, and a reader that follows `position > checkpoint` never skips an
 * event committed late.
 *
 * Group commit: a request typically touches every partition, so appends
 * serialize on the head locks, each paying its own commit. Requests that
 * arrive while an append is running are merged into the next transaction.
 * Each request still gets its own answer: its accepted and duplicate counts,
 * or its own conflict error. A request is all-or-nothing, and a conflict in one
 * request never fails the others merged with it.
 */
export class EventStore {
  readonly router: PartitionRouter;
  private readonly queue: PendingAppend[] = [];
  private active = 0;
  private readonly maxConcurrentAppends: number;
  private readonly maxGroupEvents: number;
  private readonly committedListeners: Array<(runs: CommittedRun[]) => void> = [];

  constructor(private readonly pool: pg.Pool, partitions: number, options: EventStoreOptions = {}) {
    this.router = new PartitionRouter(partitions);
    this.maxConcurrentAppends = options.maxConcurrentAppends ?? 2;
    this.maxGroupEvents = options.maxGroupEvents ?? 8000;
  }

  get partitions(): number {
    return this.router.partitions;
  }

  /** Called with what each transaction stored, right after it commits. */
  onCommitted(listener: (runs: CommittedRun[]) => void): void {
    this.committedListeners.push(listener);
  }

  /** Stores the events atomically; resolves once they are committed. */
  append(events: NewEvent[]): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    while (this.active < this.maxConcurrentAppends && this.queue.length > 0) {
      const group = [this.queue.shift()!];
      let size = group[0].events.length;
      while (this.queue.length > 0 && size + this.queue[0].events.length <= this.maxGroupEvents) {
        size += this.queue[0].events.length;
        group.push(this.queue.shift()!);
      }
      this.active++;
      void this.commitGroup(group).finally(() => {
        this.active--;
        this.drain();
      });
    }
  }

  private async commitGroup(requests: PendingAppend[]): Promise<void> {
    try {
      const results = await this.appendGroup(requests.map((r) => r.events));
      results.forEach((result, i) => (result instanceof Error ? requests[i].reject(result) : requests[i].resolve(result)));
    } catch (error) {
      if (!(error instanceof GroupConflict)) {
        for (const request of requests) request.reject(error);
        return;
      }
      for (const request of requests) {
        try {
          const [result] = await this.appendGroup([request.events]);
          if (result instanceof Error) request.reject(result);
          else request.resolve(result);
        } catch (single) {
          request.reject(single);
        }
      }
    }
  }

  /**
   * Appends several requests in one transaction. Requests are taken in
   * arrival order: one that repeats an id of an earlier request with another
   * body is answered with a conflict and left out; a repeat with the same body
   * counts as its duplicate.
   */
  private async appendGroup(groups: NewEvent[][]): Promise<Array<AppendResult | EventConflictError>> {
    const owner = new Map<string, { group: number; hash: Buffer }>();
    const outcome = groups.map(() => ({ accepted: 0, duplicates: 0, conflict: undefined as EventConflictError | undefined }));
    const owned: Array<{ event: NewEvent; group: number }> = [];

    groups.forEach((events, g) => {
      const seen = new Map<string, Buffer>();
      const conflicts = new Set<string>();
      for (const event of events) {
        const earlier = seen.get(event.eventId) ?? owner.get(event.eventId)?.hash;
        if (earlier && !earlier.equals(event.bodyHash)) conflicts.add(event.eventId);
        seen.set(event.eventId, event.bodyHash);
      }
      if (conflicts.size > 0) {
        outcome[g].conflict = new EventConflictError([...conflicts]);
        return;
      }
      for (const event of events) {
        if (owner.has(event.eventId)) {
          outcome[g].duplicates++;
        } else {
          owner.set(event.eventId, { group: g, hash: event.bodyHash });
          owned.push({ event, group: g });
        }
      }
    });

    let runs: CommittedRun[] = [];
    if (owned.length > 0) {
      runs = await inTransaction(this.pool, async (client) => {
        // Claiming ids in a fixed order keeps two overlapping appends from deadlocking.
        const claimOrder = owned.map((o) => o.event).sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
        const claimed = await this.claimIds(client, claimOrder);
        const repeated = owned.filter((o) => !claimed.has(o.event.eventId));
        if (repeated.length > 0) {
          const conflicts = await this.storedConflicts(client, repeated.map((o) => o.event));
          if (conflicts.size > 0) {
            if (groups.length > 1) throw new GroupConflict();
            throw new EventConflictError([...conflicts]);
          }
          for (const o of repeated) outcome[o.group].duplicates++;
        }
        const fresh = owned.filter((o) => claimed.has(o.event.eventId));
        for (const o of fresh) outcome[o.group].accepted++;
        return fresh.length > 0 ? this.insert(client, fresh.map((o) => o.event)) : [];
      });
      if (runs.length > 0) for (const listener of this.committedListeners) listener(runs);
    }
    const ranges: AppendedRange[] = runs.map((r) => ({ partition: r.partition, fromPosition: r.fromPosition, toPosition: r.fromPosition + r.payloads.length - 1 }));
    return outcome.map((o) => o.conflict ?? { accepted: o.accepted, duplicates: o.duplicates, ranges });
  }

  private async claimIds(client: pg.PoolClient, events: NewEvent[]): Promise<Set<string>> {
    const { rows } = await client.query<{ event_id: string }>({
      name: 'event-store-claim-ids',
      text: `insert into event_store.event_ids (event_id, body_hash)
             select * from unnest(string_to_array($1, ',')::uuid[], string_to_array($2, ',')::bytea[])
             on conflict (event_id) do nothing
             returning event_id`,
      // Comma-joined text: far cheaper to build than pg's escaped array literals.
      values: [events.map((e) => e.eventId).join(','), events.map((e) => '\\x' + e.bodyHash.toString('hex')).join(',')],
    });
    return new Set(rows.map((r) => r.event_id));
  }

  /** Ids among these that are stored with another body. */
  private async storedConflicts(client: pg.PoolClient, events: NewEvent[]): Promise<Set<string>> {
    const { rows } = await client.query<{ event_id: string; body_hash: Buffer }>({
      name: 'event-store-stored-hashes',
      text: `select event_id, body_hash from event_store.event_ids where event_id = any($1::uuid[])`,
      values: [events.map((e) => e.eventId)],
    });
    const stored = new Map(rows.map((r) => [r.event_id, r.body_hash]));
    return new Set(events.filter((e) => !stored.get(e.eventId)?.equals(e.bodyHash)).map((e) => e.eventId));
  }

  private async insert(client: pg.PoolClient, events: NewEvent[]): Promise<CommittedRun[]> {
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
    const { rows: heads } = await client.query<{ partition: number; head: string; recorded_at: string }>({
      name: 'event-store-advance-heads',
      text: `update event_store.partition_heads h set head = h.head + v.n
             from unnest($1::int2[], $2::int8[]) v(p, n)
             where h.partition = v.p
             returning h.partition, h.head, to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as recorded_at`,
      values: [partitions, partitions.map((p) => byPartition.get(p)!.length)],
    });

    // One JSON document for the whole insert: payloads are already JSON and go in
    // unescaped, which costs far less than pg's quoting of seven array literals.
    const runs: CommittedRun[] = [];
    let json = '[';
    for (const { partition, head, recorded_at } of heads) {
      const group = byPartition.get(partition)!;
      const fromPosition = Number(head) - group.length + 1;
      runs.push({ partition, fromPosition, recordedAt: recorded_at, payloads: group.map((e) => e.payloadJson) });
      for (let i = 0; i < group.length; i++) {
        const e = group[i];
        if (json.length > 1) json += ',';
        json += `{"p":${partition},"n":${fromPosition + i},"i":${JSON.stringify(e.eventId)},"m":${JSON.stringify(e.merchantId)},"t":${JSON.stringify(e.type)},"o":${JSON.stringify(e.occurredAt)},"d":${e.payloadJson}}`;
      }
    }
    await client.query({
      name: 'event-store-insert-events',
      text: `insert into event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload)
             select r.p, r.n, r.i, r.m, r.t, r.o, r.d
             from json_to_recordset($1::json) as r(p int2, n int8, i uuid, m text, t text, o timestamptz, d jsonb)`,
      values: [json + ']'],
    });
    return runs.sort((a, b) => a.partition - b.partition);
  }

}
