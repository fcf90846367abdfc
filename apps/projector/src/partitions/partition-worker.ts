import type pg from 'pg';
import { PreparedStatementClient } from '@app/database';
import { readPartition, type StoredEventRow } from '@app/event-store';
import { describeError } from '@app/messaging';
import {
  applyEvents,
  CheckpointMovedError,
  readCheckpoint,
  type PaymentEventJson,
  type PositionedEvent,
  type ProjectionTarget,
} from '@app/merchant-metrics';
import { assembleBatch } from './batch-assembly.js';
import type { FetchedBatch, PartitionConsumer } from './partition-consumer.js';

export interface WorkerOptions {
  batchEvents: number;
  fetchMessages: number;
  /** How long one fetch waits for messages. */
  fetchWaitMs: number;
}

export interface WorkerObserver {
  applied(partition: number, events: number, seconds: number): void;
}

export interface WorkerLogger {
  log(message: string): void;
  warn(message: string): void;
}

function fromStore(row: StoredEventRow): PositionedEvent {
  return { position: row.position, recordedAt: row.recordedAt, event: JSON.parse(row.payloadJson) as PaymentEventJson };
}

/**
 * Projects one event-store partition while this process holds its lease.
 * JetStream is the fast path and the store the truth: the worker first reads
 * the store from its checkpoint, then follows the partition's durable
 * consumer; a message past checkpoint + 1 makes it read the missing positions
 * from the store, and while NATS is away (or delivers nothing although the
 * store has more) it reads the store directly. Every batch commits with its
 * checkpoint (applyEvents), and messages are acked only after that commit.
 */
export class PartitionWorker {
  private stopped = false;
  private running?: Promise<void>;
  private checkpoint = 0;
  private checkpointKnown = false;
  private readFromStore = true;
  /** Latest store head seen by the lag monitor; a hint, never trusted for correctness. */
  storeHead = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly consumer: PartitionConsumer,
    private readonly target: ProjectionTarget,
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
    let failures = 0;
    while (!this.stopped) {
      try {
        if (!this.checkpointKnown) {
          this.checkpoint = await this.loadCheckpoint();
          this.checkpointKnown = true;
        }
        await this.step();
        failures = 0;
      } catch (error) {
        failures++;
        this.checkpointKnown = false;
        this.readFromStore = true;
        await this.consumer.reset();
        const moved = error instanceof CheckpointMovedError;
        if (moved || failures === 1 || failures % 30 === 0) {
          this.logger.warn(`partition ${this.partition}: ${describeError(error)}${moved ? '' : '; retrying'}`);
        }
        if (!moved) await sleep(Math.min(5000, 200 * failures));
      }
    }
  }

  private async step(): Promise<void> {
    if (this.readFromStore) {
      const rows = await readPartition(this.pool, this.partition, this.checkpoint, this.options.batchEvents);
      if (rows.length > 0) await this.apply(rows.map(fromStore));
      if (rows.length === this.options.batchEvents) return;
      this.readFromStore = false;
    }
    const fetched = await this.consumer.take(this.options.fetchMessages, this.options.fetchWaitMs);
    if (fetched === undefined) {
      // NATS is away: follow the store until it is back.
      this.readFromStore = true;
      await sleep(250);
      return;
    }
    if (fetched.length === 0) {
      if (this.storeHead > this.checkpoint) this.readFromStore = true;
      return;
    }
    await this.applyFetched(fetched);
    for (const f of fetched) f.msg.ack();
  }

  private async applyFetched(fetched: FetchedBatch[]): Promise<void> {
    const load = async (after: number, count: number) =>
      (await readPartition(this.pool, this.partition, after, count)).map(fromStore);
    const { events, farBehind } = await assembleBatch(fetched.map((f) => f.batch), this.checkpoint, load, this.options.batchEvents);
    // Far behind the stream: catch up from the store in bulk; these messages are then duplicates.
    if (farBehind) this.readFromStore = true;
    if (events.length > 0) await this.apply(events);
  }

  private async apply(events: PositionedEvent[]): Promise<void> {
    const started = performance.now();
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      const before = this.checkpoint;
      // Prepared: the writes are the same few statements every batch, so each connection plans them once.
      this.checkpoint = await applyEvents(new PreparedStatementClient(client), this.target, this.partition, before, events);
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
