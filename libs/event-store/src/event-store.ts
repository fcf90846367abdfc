import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EventConflictError, type AppendOrigin, type AppendResult, type CommittedRun, type NewEvent } from './new-event.js';
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
  origin: AppendOrigin | undefined;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/** A request of a merged group conflicts with a stored event: the group is retried one request at a time. */
class GroupConflict extends Error {}

/** claim_events refused: these ids are stored with another body. */
class StoredConflict extends Error {
  constructor(readonly eventIds: string[]) {
    super('stored conflict');
  }
}

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

  /**
   * Stores the events atomically; resolves once they are committed. Each
   * stored event records `origin` (null columns without it: tests, tools).
   */
  append(events: NewEvent[], origin?: AppendOrigin): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ events, origin, resolve, reject });
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
      const results = await this.appendGroup(requests);
      results.forEach((result, i) => (result instanceof Error ? requests[i].reject(result) : requests[i].resolve(result)));
    } catch (error) {
      if (!(error instanceof GroupConflict)) {
        for (const request of requests) request.reject(error);
        return;
      }
      for (const request of requests) {
        try {
          const [result] = await this.appendGroup([request]);
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
  private async appendGroup(groups: Array<Pick<PendingAppend, 'events' | 'origin'>>): Promise<Array<AppendResult | EventConflictError>> {
    const owner = new Map<string, { group: number; hash: Buffer }>();
    const outcome = groups.map(() => ({ accepted: 0, duplicates: 0, conflict: undefined as EventConflictError | undefined }));
    const owned: Array<{ event: NewEvent; group: number }> = [];

    groups.forEach(({ events }, g) => {
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
      let duplicates: Set<string>;
      try {
        ({ runs, duplicates } = await this.store(owned.map((o) => o.event), owned.map((o) => groups[o.group].origin)));
      } catch (error) {
        if (!(error instanceof StoredConflict)) throw error;
        if (groups.length > 1) throw new GroupConflict();
        throw new EventConflictError(error.eventIds);
      }
      for (const o of owned) {
        if (duplicates.has(o.event.eventId)) outcome[o.group].duplicates++;
        else outcome[o.group].accepted++;
      }
      if (runs.length > 0) for (const listener of this.committedListeners) listener(runs);
    }
    return outcome.map((o) => o.conflict ?? { accepted: o.accepted, duplicates: o.duplicates });
  }

  /**
   * One transaction (see the append functions' migration): claim the ids,
   * COPY the new events unnumbered into this session's staging table, then
   * number and insert them under the head locks and commit, in one simple
   * query so that no client round trip happens while the locks are held.
   */
  private async store(events: NewEvent[], origins: Array<AppendOrigin | undefined>): Promise<{ runs: CommittedRun[]; duplicates: Set<string> }> {
    const partitions = events.map((e) => this.router.partitionOf(e.merchantId));
    let ids = '';
    let hashes = '';
    for (let k = 0; k < events.length; k++) {
      if (k > 0) {
        ids += ',';
        hashes += ',';
      }
      ids += events[k].eventId;
      hashes += '\\x' + events[k].bodyHash.toString('hex');
    }

    const client = await this.pool.connect();
    try {
      await ensureStagingTable(client);
      await client.query('begin');
      let duplicates: Set<string>;
      try {
        const { rows } = await client.query<{ result: { duplicates: string[] } }>({
          name: 'event-store-claim-events',
          text: `select event_store.claim_events(string_to_array($1, ',')::uuid[], string_to_array($2, ',')::bytea[]) as result`,
          values: [ids, hashes],
        });
        duplicates = new Set(rows[0].result.duplicates);
      } catch (error) {
        const pgError = error as { code?: string; detail?: string };
        if (pgError.code === 'PA409') throw new StoredConflict((pgError.detail ?? '').split(','));
        throw error;
      }

      const fresh = new Map<number, string[]>();
      let copy = '';
      for (let k = 0; k < events.length; k++) {
        const e = events[k];
        if (duplicates.has(e.eventId)) continue;
        const list = fresh.get(partitions[k]);
        if (list) list.push(e.payloadJson);
        else fresh.set(partitions[k], [e.payloadJson]);
        const origin = origins[k];
        const source = origin ? `${origin.producerAppId}\t${copyText(origin.requestId)}` : '\\N\t\\N';
        copy += `${k}\t${partitions[k]}\t${e.eventId}\t${copyText(e.merchantId)}\t${copyText(e.type)}\t${e.occurredAt}\t${copyText(e.payloadJson)}\t${source}\n`;
      }
      if (copy.length === 0) {
        await client.query('commit');
        return { runs: [], duplicates };
      }
      await pipeline(
        Readable.from([copy]),
        client.query(copyFrom(
          `copy pg_temp.event_store_staging (k, partition, event_id, merchant_id, event_type, occurred_at, payload, producer_app_id, request_id) from stdin`,
        )),
      );
      // Two statements, one message: COMMIT follows finish_append_v2 (migration 2026-12-02T02-00) without a round trip.
      const results = (await client.query(`select event_store.finish_append_v2() as result; commit`)) as unknown as Array<pg.QueryResult<{ result: FinishResult }>>;
      const finished = results[0].rows[0].result;

      const runs: CommittedRun[] = finished.runs.map((r) => {
        const payloads = fresh.get(r.p) ?? [];
        if (payloads.length !== r.n) throw new Error(`finish_append numbered ${r.n} events in partition ${r.p}, expected ${payloads.length}`);
        return { partition: r.p, fromPosition: Number(r.from), recordedAt: finished.recordedAt, payloads };
      });
      return { runs: runs.sort((a, b) => a.partition - b.partition), duplicates };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

interface FinishResult {
  runs: Array<{ p: number; from: number; n: number }>;
  recordedAt: string;
}

const stagingReady = new WeakSet<object>();

/**
 * Each session stages its appends in its own temporary table, emptied by
 * every commit (ON COMMIT DELETE ROWS) and by every rollback. Temporary
 * tables write no WAL.
 */
async function ensureStagingTable(client: pg.PoolClient): Promise<void> {
  if (stagingReady.has(client)) return;
  await client.query(`create temporary table if not exists event_store_staging (
      k int not null, partition int2 not null, event_id uuid not null, merchant_id text not null,
      event_type text not null, occurred_at timestamptz not null, payload jsonb not null,
      producer_app_id uuid, request_id text
    ) on commit delete rows`);
  stagingReady.add(client);
}

const COPY_SPECIAL = /[\\\t\n\r]/;

/** A value in COPY's text format: backslash, tab and line breaks escaped (rare in JSON, so usually free). */
function copyText(value: string): string {
  if (!COPY_SPECIAL.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
