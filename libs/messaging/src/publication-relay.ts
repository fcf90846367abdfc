import { headers } from '@nats-io/nats-core';
import type pg from 'pg';
import { partitionTable, readPartition, type CommittedRun, type StoredEventRow } from '@app/event-store';
import {
  batchMessageId,
  decodeEventBatch,
  encodeEventBatch,
  HEADER_FROM_POSITION,
  HEADER_PARTITION,
  HEADER_TO_POSITION,
} from './event-batch-message.js';
import { describeError, type Logger, type NatsConnector } from './nats-connector.js';
import { PAYMENTS_STREAM, partitionSubject } from './payments-stream.js';

export interface RelayOptions {
  partitions: number;
  /** Events per JetStream message. */
  batchSize: number;
  /** Bytes of one message's body at most (MAX_MESSAGE_BYTES by default). */
  maxMessageBytes?: number;
  /** Events read from the store per round (one transaction). */
  roundSize: number;
  /** Fallback poll for work committed by other processes. */
  pollIntervalMs: number;
  publishTimeoutMs: number;
}

export interface RelayObserver {
  published(partition: number, events: number, messages: number): void;
  lag(partition: number, head: number, published: number): void;
  failed(partition: number): void;
}

/**
 * Transactional-outbox relay: publishes what the store committed, per
 * partition, in position order, then advances the partition's published head.
 *
 * A round holds the partition's publication_heads row (FOR UPDATE SKIP LOCKED),
 * so relays in several processes share partitions without double work, and a
 * crash or NATS outage mid-round just rolls the head back: the range is
 * published again, with the same Nats-Msg-Id, and JetStream drops the copy.
 */
export class PublicationRelay {
  private readonly pending: boolean[];
  private readonly wakers: Array<(() => void) | undefined>;
  /** Partitions whose stream tail must be checked before the next round (at start and after a failure). */
  private readonly unsure: boolean[];
  /**
   * Events this process committed and has not published yet, per partition,
   * in position order: the fast path that spares re-reading them from the
   * store. Anything missing from it (another process's commits, a restart,
   * an overflow) is read from the store instead.
   */
  private readonly recent: StoredEventRow[][];
  private stopped = false;
  private loops: Promise<void>[] = [];
  private poller?: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly nats: NatsConnector,
    private readonly options: RelayOptions,
    private readonly logger: Logger,
    private readonly observer?: RelayObserver,
  ) {
    this.pending = new Array(options.partitions).fill(true);
    this.wakers = new Array(options.partitions).fill(undefined);
    this.unsure = new Array(options.partitions).fill(true);
    this.recent = Array.from({ length: options.partitions }, () => []);
  }

  start(): void {
    this.stopped = false;
    this.loops = Array.from({ length: this.options.partitions }, (_, p) => this.run(p));
    this.poller = setInterval(() => void this.poll(), this.options.pollIntervalMs);
    this.poller.unref();
  }

  /** Hands over events this process just committed; they are published without being read back. */
  committed(runs: CommittedRun[]): void {
    for (const run of runs) {
      const buffer = this.recent[run.partition];
      if (buffer.length + run.payloads.length > this.options.roundSize * 4) buffer.length = 0;
      const rows = run.payloads.map((payloadJson, i) => ({ position: run.fromPosition + i, recordedAt: run.recordedAt, payloadJson }));
      if (buffer.length === 0 || buffer[buffer.length - 1].position < run.fromPosition) buffer.push(...rows);
      else {
        buffer.push(...rows);
        buffer.sort((a, b) => a.position - b.position);
      }
      this.wake(run.partition);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poller);
    for (let p = 0; p < this.options.partitions; p++) this.wakers[p]?.();
    await Promise.all(this.loops);
  }

  private wake(p: number): void {
    this.pending[p] = true;
    const waker = this.wakers[p];
    this.wakers[p] = undefined;
    waker?.();
  }

  private async poll(): Promise<void> {
    try {
      const { rows } = await this.pool.query<{ partition: number; head: string; published: string }>({
        name: 'relay-heads',
        text: `select h.partition, h.head, p.published
               from event_store.partition_heads h join event_store.publication_heads p using (partition)`,
      });
      for (const row of rows) {
        const head = Number(row.head);
        const published = Number(row.published);
        this.observer?.lag(row.partition, head, published);
        if (head > published) this.wake(row.partition);
      }
    } catch (error) {
      this.logger.warn(`relay poll failed: ${describeError(error)}`);
    }
  }

  private async run(p: number): Promise<void> {
    let backoffMs = 0;
    while (!this.stopped) {
      if (!this.pending[p] || backoffMs > 0) {
        await new Promise<void>((resolve) => {
          this.wakers[p] = resolve;
          if (backoffMs > 0) setTimeout(resolve, backoffMs).unref();
        });
        this.wakers[p] = undefined;
        if (this.stopped) return;
      }
      this.pending[p] = false;
      try {
        while (!this.stopped && (await this.publishRound(p)) === this.options.roundSize);
        backoffMs = 0;
      } catch (error) {
        this.pending[p] = true;
        this.unsure[p] = true;
        if (error instanceof NatsUnavailableError || !this.nats.connected) {
          // The connector reports outages once; partitions just wait for it.
          backoffMs = 250;
          continue;
        }
        this.observer?.failed(p);
        if (backoffMs === 0) this.logger.warn(`publishing partition ${p} failed (${describeError(error)}); will retry`);
        backoffMs = Math.min(Math.max(backoffMs * 2, 100), 2000);
      }
    }
  }

  /** Publishes one round of a partition; returns how many events it published. */
  private async publishRound(p: number): Promise<number> {
    if (!this.nats.jetstream) throw new NatsUnavailableError();
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<{ published: string }>({
        name: 'relay-claim-partition',
        text: `select published from event_store.publication_heads where partition = $1 for update skip locked`,
        values: [p],
      });
      if (rows.length === 0) {
        await client.query('rollback');
        return 0;
      }
      let published = Number(rows[0].published);
      if (this.unsure[p]) {
        published = await this.skipAlreadyPublished(client, p, published);
        this.unsure[p] = false;
      }
      const events = this.takeRecent(p, published) ?? (await readPartition(client, p, published, this.options.roundSize));
      if (events.length === 0) {
        await client.query('rollback');
        return 0;
      }
      const messages = chunkEvents(events, this.options.batchSize, this.options.maxMessageBytes ?? MAX_MESSAGE_BYTES);
      await Promise.all(messages.map((batch) => this.publishBatch(p, batch)));
      await advance(client, p, events[events.length - 1].position);
      await client.query('commit');
      this.observer?.published(p, events.length, messages.length);
      return events.length;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** The buffered run that continues right after `published`, or undefined when the buffer cannot serve it. */
  private takeRecent(p: number, published: number): StoredEventRow[] | undefined {
    const buffer = this.recent[p];
    let stale = 0;
    while (stale < buffer.length && buffer[stale].position <= published) stale++;
    if (stale > 0) buffer.splice(0, stale);
    if (buffer.length === 0 || buffer[0].position !== published + 1) return undefined;
    let n = 1;
    while (n < buffer.length && n < this.options.roundSize && buffer[n].position === buffer[n - 1].position + 1) n++;
    return buffer.slice(0, n);
  }

  /**
   * A round that failed (NATS outage, crash) may still have landed in the
   * stream: messages buffered during a reconnect are flushed late, and a dead
   * process may have published before it could record it. Republishing with
   * other batch boundaries would slip past Msg-Id deduplication, so before
   * such a round the relay reads the partition's last message and, when its
   * last event is the store's event at that position, moves the head past it.
   */
  private async skipAlreadyPublished(client: pg.PoolClient, p: number, published: number): Promise<number> {
    const jsm = this.nats.manager;
    if (!jsm) throw new NatsUnavailableError();
    const last = await jsm.streams.getMessage(PAYMENTS_STREAM, { last_by_subj: partitionSubject(p) }).catch(() => null);
    if (!last) return published;
    const batch = decodeEventBatch(last.data);
    if (batch.toPosition <= published) return published;
    const lastEvent = batch.events[batch.events.length - 1];
    const { rows } = await client.query<{ event_id: string }>({
      name: `relay-event-at-p${p}`,
      text: `select event_id from ${partitionTable(p)} where position = $1`,
      values: [batch.toPosition],
    });
    if (rows[0]?.event_id !== (lastEvent.event as { eventId?: string }).eventId) {
      this.logger.warn(`stream tail of partition ${p} (position ${batch.toPosition}) does not match the event store; republishing from ${published + 1}`);
      return published;
    }
    await advance(client, p, batch.toPosition);
    return batch.toPosition;
  }

  private async publishBatch(p: number, batch: StoredEventRow[]): Promise<void> {
    const js = this.nats.jetstream;
    if (!js) throw new NatsUnavailableError();
    const from = batch[0].position;
    const to = batch[batch.length - 1].position;
    const h = headers();
    h.set(HEADER_PARTITION, String(p));
    h.set(HEADER_FROM_POSITION, String(from));
    h.set(HEADER_TO_POSITION, String(to));
    await js.publish(partitionSubject(p), encodeEventBatch(p, batch), {
      msgID: batchMessageId(p, from, to, batch[batch.length - 1].recordedAt),
      headers: h,
      timeout: this.options.publishTimeoutMs,
    });
  }
}

class NatsUnavailableError extends Error {
  constructor() {
    super('NATS is not connected');
  }
}

/** Records that a partition is published up to `position` (in the caller's transaction). */
async function advance(client: pg.PoolClient, partition: number, position: number): Promise<void> {
  await client.query({
    name: 'relay-advance',
    text: `update event_store.publication_heads set published = $2, published_at = now() where partition = $1`,
    values: [partition, position],
  });
}

/**
 * Bytes of one message's body at most, well below NATS's default max_payload
 * (1 MiB): 500 events near the command API's size limits (about 2.5 KB
 * each) made a message over it, and the partition's publication stopped for
 * good (every retry was the same message).
 */
export const MAX_MESSAGE_BYTES = 768 * 1024;

/** What a row adds to a message body beside its payload: position, recordedAt, the JSON around them (at most 82). */
const ROW_OVERHEAD_BYTES = 96;
/** The body's own fields around the events (partition, positions). */
const MESSAGE_OVERHEAD_BYTES = 128;

/**
 * Splits a round's events into messages of at most `maxEvents` events and
 * `maxBytes` bytes (an event larger than that goes alone). The same events
 * always split the same way, so a republished round keeps its Msg-Ids.
 */
export function chunkEvents(rows: StoredEventRow[], maxEvents: number, maxBytes: number): StoredEventRow[][] {
  const chunks: StoredEventRow[][] = [];
  let current: StoredEventRow[] = [];
  let bytes = MESSAGE_OVERHEAD_BYTES;
  for (const row of rows) {
    const size = Buffer.byteLength(row.payloadJson) + ROW_OVERHEAD_BYTES;
    if (current.length > 0 && (current.length >= maxEvents || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = MESSAGE_OVERHEAD_BYTES;
    }
    current.push(row);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
