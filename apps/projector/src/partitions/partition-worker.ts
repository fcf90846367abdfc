import type { JsMsg } from '@nats-io/jetstream';
import type pg from 'pg';
import { PreparedStatementClient } from '@app/database';
import { describeError } from '@app/messaging';
import { CheckpointMovedError, readCheckpoint, type EventSource, type PositionedEvent, type VersionRuntime, type VersionTarget } from '@app/projections';
import type { BatchBudget } from './batch-budget.js';
import type { PartitionConsumer } from './partition-consumer.js';

export interface WorkerOptions {
  /** Most events per transaction, whether read from the store or taken from JetStream messages. */
  batchEvents: number;
  /** Most JetStream messages per transaction. */
  fetchMessages: number;
  /** How long one take from the consumer waits for messages. */
  fetchWaitMs: number;
  /** Shared by the process's workers: each batch holds a grant of it from its read until it is applied. */
  budget?: BatchBudget;
}

export interface WorkerObserver {
  applied(partition: number, events: number, seconds: number): void;
}

export interface WorkerLogger {
  log(message: string): void;
  warn(message: string): void;
}

type Source = 'store' | 'stream';

/** A batch ready to apply: the events after `after`, in order, and what comes next. */
interface PreparedBatch {
  after: number;
  events: PositionedEvent[];
  /** Acknowledged once the events are committed (messages whose events were all applied before included). */
  messages: JsMsg[];
  /** Where the batch after this one comes from. */
  next: Source;
  fromStore: boolean;
  /** Events of the batch budget this batch holds (given back once it is applied or dropped). */
  grant: number;
}

/**
 * Projects one event-store partition while this process holds its lease.
 * The store is the only source of events; JetStream says when to read it:
 * the worker first reads the store from its checkpoint, then waits on the
 * partition's durable consumer, and each time messages arrive reads the store
 * after its checkpoint (a message's own body is never applied: NATS is not
 * trusted with the read model's contents). While NATS is away (or delivers
 * nothing although the store has more) it reads the store on its own. Every
 * batch commits with its checkpoint (applyEvents), and messages are acked only
 * after that commit.
 *
 * Pipelined, one batch deep: while a batch is written, the next one is read
 * from the store, so PostgreSQL's writing and the process's reading and
 * decoding overlap instead of taking turns. In memory per partition: the
 * batch being written and the one prepared, at most `batchEvents` each and
 * together with every other partition's within the process's batch budget,
 * and the consumer's buffer (PROJECTOR_BUFFER_EVENTS).
 */
export class PartitionWorker {
  private stopped = false;
  private running?: Promise<void>;
  private checkpoint = 0;
  private checkpointKnown = false;
  private failures = 0;
  /** Latest store head seen by the lag monitor; a hint, never trusted for correctness. */
  storeHead = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly consumer: PartitionConsumer,
    private readonly target: VersionTarget,
    private readonly runtime: VersionRuntime,
    /** The partition's events: the store, and the archive for ranges moved there. */
    private readonly events: EventSource,
    readonly partition: number,
    private readonly options: WorkerOptions,
    private readonly observer: WorkerObserver,
    private readonly logger: WorkerLogger,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    await this.consumer.stop();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.checkpointKnown) {
          this.checkpoint = await this.loadCheckpoint();
          this.checkpointKnown = true;
        }
        await this.follow();
      } catch (error) {
        this.failures++;
        this.checkpointKnown = false;
        await this.consumer.reset();
        const moved = error instanceof CheckpointMovedError;
        if (moved || this.failures === 1 || this.failures % 30 === 0) {
          this.logger.warn(`partition ${this.partition}: ${describeError(error)}${moved ? '' : '; retrying'}`);
        }
        if (!moved) await sleep(Math.min(5000, 200 * this.failures));
      }
    }
  }

  /** Applies batch after batch from the checkpoint, each prepared while the one before it is written. */
  private async follow(): Promise<void> {
    let next = this.readAhead(this.checkpoint, 'store');
    try {
      while (!this.stopped) {
        const batch = await next;
        try {
          const last = batch.events.length > 0 ? batch.events[batch.events.length - 1].position : batch.after;
          next = this.readAhead(last, batch.next);
          if (batch.events.length > 0) await this.apply(batch.events);
          for (const msg of batch.messages) msg.ack();
          // Reading the store far behind the stream: what the consumer holds of it is of no use now.
          if (batch.fromStore) this.consumer.discardThrough(this.checkpoint);
          this.failures = 0;
        } finally {
          this.options.budget?.give(batch.grant);
        }
      }
    } finally {
      // Settle the read-ahead before the caller resets the consumer or reloads the checkpoint.
      await next.then((dropped) => this.options.budget?.give(dropped.grant), () => undefined);
    }
  }

  /** prepare(), its failure kept for whoever awaits it: it may come while a batch is still being written. */
  private readAhead(after: number, source: Source): Promise<PreparedBatch> {
    const prepared = this.withGrant(after, source);
    prepared.catch(() => undefined);
    return prepared;
  }

  /**
   * Prepares the next batch with a grant of the batch budget, taken only once
   * there is something to read (a partition waiting for messages holds none),
   * and given back if preparing fails.
   */
  private async withGrant(after: number, source: Source): Promise<PreparedBatch> {
    let grant = 0;
    const take = () => {
      grant = this.options.budget?.take(this.options.batchEvents) ?? this.options.batchEvents;
      return grant;
    };
    try {
      return { ...(await this.prepare(after, source, take)), grant };
    } catch (error) {
      this.options.budget?.give(grant);
      throw error;
    }
  }

  private async prepare(after: number, source: Source, grant: () => number): Promise<Omit<PreparedBatch, 'grant'>> {
    if (this.stopped) return { after, events: [], messages: [], next: source, fromStore: false };
    if (source === 'store') {
      const size = grant();
      const events = await this.events.read(this.partition, after, size);
      return { after, events, messages: [], next: events.length === size ? 'store' : 'stream', fromStore: true };
    }
    const arrived = await this.consumer.waitForMessages(this.options.fetchWaitMs);
    const size = arrived ? grant() : 0;
    const fetched = arrived === undefined ? undefined : arrived ? await this.consumer.take(size, this.options.fetchMessages, 0) : [];
    if (fetched === undefined) {
      // NATS is away: follow the store until it is back.
      await sleep(250);
      return { after, events: [], messages: [], next: 'store', fromStore: false };
    }
    if (fetched.length === 0) {
      return { after, events: [], messages: [], next: this.storeHead > after ? 'store' : 'stream', fromStore: false };
    }
    // A message only says that the store holds its positions: the events are read from the store,
    // never taken from the message. Whoever can publish on NATS cannot change the read model, and a
    // lost, repeated, reordered or corrupted publication cannot skip, double or alter an event. The
    // messages are acknowledged once the batch is committed: what they announced is at or below the
    // new checkpoint, or (the store gave a full batch) the store is read on until it is caught up.
    const events = await this.events.read(this.partition, after, size);
    return { after, events, messages: fetched.map((f) => f.msg), next: events.length === size ? 'store' : 'stream', fromStore: false };
  }

  private async apply(events: PositionedEvent[]): Promise<void> {
    const started = performance.now();
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      const before = this.checkpoint;
      // Prepared: the writes are the same few statements every batch, so each connection plans them once.
      this.checkpoint = await this.runtime.apply(new PreparedStatementClient(client), this.partition, before, events);
      this.observer.applied(this.partition, this.checkpoint - before, (performance.now() - started) / 1000);
    } catch (error) {
      broken = error instanceof CheckpointMovedError ? undefined : (error as Error);
      throw error;
    } finally {
      client.release(broken);
    }
  }

  private loadCheckpoint(): Promise<number> {
    return readCheckpoint(this.pool, this.target.projection, this.target.version, this.partition);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
