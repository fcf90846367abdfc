import { AckPolicy, DeliverPolicy, type Consumer, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import {
  decodeEventBatch,
  describeError,
  HEADER_FROM_POSITION,
  HEADER_TO_POSITION,
  PAYMENTS_STREAM,
  type EventBatchMessage,
  type NatsConnector,
} from '@app/messaging';
import { DEFAULT_BUFFER_EVENTS } from '../config/projector-memory.config.js';
import { PullBudget, type SharedBufferBound } from './pull-budget.js';

/** A message as received: its range (from its headers) and, only once needed, its decoded events. */
export interface FetchedBatch {
  msg: JsMsg;
  fromPosition: number;
  toPosition: number;
  /** Decoded on arrival only when the headers are missing (a message not written by the relay). */
  decoded?: EventBatchMessage;
}

export interface ConsumerObserver {
  buffered(partition: number, events: number, bytes: number): void;
}

const MAX_ACK_PENDING = 10_000;
/** How long one pull request waits on the server for messages before it is renewed. */
const PULL_EXPIRES_MS = 5000;

/**
 * The durable pull consumer of one partition for one projection version
 * (`merchant-metrics-v1-p3` on `payments.events.3`). It starts at new
 * messages: history comes from the event store, and a first message past the
 * checkpoint makes the worker read the missing positions from the store.
 *
 * Messages are pulled ahead into a buffer, so the worker takes whatever has
 * arrived without waiting on a fetch. The buffer is bounded: at most
 * `maxEvents` events are held (received, not yet taken), and a pull is made
 * only for the room left, in bytes (PullBudget), so JetStream keeps the rest
 * until the worker has applied what it holds. A slow batch, or a worker
 * reading the store far behind the stream, slows the pulls instead of
 * filling the heap.
 */
export class PartitionConsumer {
  readonly name: string;
  private buffer: FetchedBatch[] = [];
  private bufferedEvents = 0;
  private bufferedBytes = 0;
  private readonly budget: PullBudget;
  private wakeTaker?: () => void;
  private wakePuller?: () => void;
  private pulling?: Promise<void>;
  private fetch?: { stop(): void };
  private failure?: unknown;
  private stopped = false;
  /** Bumped by reset(): a pull loop of an earlier generation must not touch the new buffer. */
  private generation = 0;

  constructor(
    private readonly nats: NatsConnector,
    projection: string,
    version: number,
    private readonly partition: number,
    /** How long a delivered, unacknowledged message waits before JetStream redelivers it. */
    private readonly ackWaitMs = 30_000,
    /** Most events held in the buffer (PROJECTOR_BUFFER_EVENTS). */
    maxEvents = DEFAULT_BUFFER_EVENTS,
    private readonly observer?: ConsumerObserver,
    /** The process's bound over all partitions' buffers (PROJECTOR_BUFFER_TOTAL_EVENTS). */
    private readonly shared?: SharedBufferBound,
  ) {
    this.name = `${projection}-v${version}-p${partition}`;
    this.budget = new PullBudget(maxEvents, 0.9, shared);
  }

  /**
   * Buffered messages, in arrival order, up to `maxEvents` events (always at
   * least one message) and `maxMessages` messages, waiting at most `waitMs`
   * for the first; undefined while NATS is away. Throws the pull loop's last failure once.
   */
  async take(maxEvents: number, maxMessages: number, waitMs: number): Promise<FetchedBatch[] | undefined> {
    const arrived = await this.waitForMessages(waitMs);
    if (arrived === undefined) return undefined;
    let n = 0;
    let events = 0;
    while (n < this.buffer.length && n < maxMessages) {
      const size = span(this.buffer[n]);
      if (n > 0 && events + size > maxEvents) break;
      events += size;
      n++;
    }
    const taken = this.buffer.splice(0, n);
    for (const f of taken) this.release(f);
    return taken;
  }

  /**
   * Whether messages are buffered, waiting at most `waitMs` for the first;
   * undefined while NATS is away. Throws the pull loop's last failure once.
   */
  async waitForMessages(waitMs: number): Promise<boolean | undefined> {
    if (!this.nats.jetstream || !this.nats.manager) return undefined;
    this.pulling ??= this.pull(this.generation);
    this.throwFailure();
    if (this.buffer.length === 0 && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wakeTaker = () => { clearTimeout(timer); resolve(); };
      });
      this.wakeTaker = undefined;
      this.throwFailure();
    }
    return this.buffer.length > 0;
  }

  /**
   * Acknowledges and drops the buffered messages that end at or below
   * `position`: the store has already given the worker their events (it
   * reads the store while far behind the stream), so they only take room.
   */
  discardThrough(position: number): void {
    if (this.buffer.length === 0) return;
    const kept: FetchedBatch[] = [];
    for (const f of this.buffer) {
      if (f.toPosition <= position) {
        f.msg.ack();
        this.release(f);
      } else kept.push(f);
    }
    this.buffer = kept;
  }

  /** Drops buffered messages (unacked: they come back after the ack wait) and restarts the pull. */
  async reset(): Promise<void> {
    this.generation++;
    this.fetch?.stop();
    this.wakePuller?.();
    await this.pulling;
    this.pulling = undefined;
    this.buffer = [];
    if (this.shared) this.shared.held -= this.bufferedEvents;
    this.bufferedEvents = 0;
    this.bufferedBytes = 0;
    this.report();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeTaker?.();
    await this.reset();
  }

  private throwFailure(): void {
    if (this.failure === undefined) return;
    const failure = this.failure;
    this.failure = undefined;
    throw failure;
  }

  private async pull(generation: number): Promise<void> {
    const current = () => !this.stopped && generation === this.generation;
    try {
      const consumer = await this.ensureConsumer();
      while (current()) {
        const options = this.budget.next(this.bufferedEvents, PULL_EXPIRES_MS);
        if (!options) {
          // No room: wait for the worker to take or drop messages.
          await new Promise<void>((resolve) => { this.wakePuller = resolve; });
          this.wakePuller = undefined;
          continue;
        }
        const messages = await consumer.fetch(options);
        if (!current()) {
          messages.stop();
          break;
        }
        this.fetch = messages;
        let received = 0;
        try {
          for await (const msg of messages) {
            if (!current()) {
              // Not ours any more (reset): left unacked, it is redelivered after the ack wait.
              continue;
            }
            received++;
            this.receive(msg);
          }
        } catch (error) {
          // A byte budget ends its pull with this status once the next message would not fit.
          if (!endedByByteBudget(error)) throw error;
          if (received === 0) this.budget.tooSmall();
        } finally {
          this.fetch = undefined;
        }
      }
    } catch (error) {
      if (current()) {
        this.failure = new Error(`consumer ${this.name}: ${describeError(error)}`);
        this.wakeTaker?.();
      }
    } finally {
      // Ended (stopped, reset, or failed): the next take() starts a new pull.
      if (generation === this.generation) this.pulling = undefined;
    }
  }

  private async ensureConsumer(): Promise<Consumer> {
    const js = this.nats.jetstream;
    const jsm = this.nats.manager;
    if (!js || !jsm) throw new Error('NATS is not connected');
    const exists = await jsm.consumers.info(PAYMENTS_STREAM, this.name).catch(() => undefined);
    const editable = { ack_wait: nanos(this.ackWaitMs), max_ack_pending: MAX_ACK_PENDING };
    if (!exists) {
      await jsm.consumers.add(PAYMENTS_STREAM, {
        durable_name: this.name,
        filter_subject: `payments.events.${this.partition}`,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        ...editable,
      });
    } else if (exists.config.ack_wait !== editable.ack_wait || exists.config.max_ack_pending !== editable.max_ack_pending) {
      // A durable consumer outlives the process that made it: settings changed since are applied to it.
      await jsm.consumers.update(PAYMENTS_STREAM, this.name, editable);
    }
    return js.consumers.get(PAYMENTS_STREAM, this.name);
  }

  private receive(msg: JsMsg): void {
    const fetched = rangeOf(msg);
    if (!fetched) {
      // Not ours to fix: the store is the truth and the gap rule reads around it.
      msg.term();
      return;
    }
    const events = span(fetched);
    this.budget.observe(events, msg.data.length);
    this.buffer.push(fetched);
    this.bufferedEvents += events;
    if (this.shared) this.shared.held += events;
    this.bufferedBytes += msg.data.length;
    this.report();
    this.wakeTaker?.();
  }

  private release(f: FetchedBatch): void {
    this.bufferedEvents -= span(f);
    if (this.shared) this.shared.held -= span(f);
    this.bufferedBytes -= f.msg.data.length;
    this.report();
    this.wakePuller?.();
  }

  private report(): void {
    this.observer?.buffered(this.partition, this.bufferedEvents, this.bufferedBytes);
  }
}

/** JetStream's status 409 "message size exceeds maxbytes": the pull's byte budget is spent. */
function endedByByteBudget(error: unknown): boolean {
  return (error as { code?: unknown }).code === 409 && /exceeds maxbytes/i.test(describeError(error));
}

function span(f: FetchedBatch): number {
  return f.toPosition - f.fromPosition + 1;
}

/**
 * A message's positions, from the relay's headers (no decoding: messages the
 * worker already has are dropped unread), or else from its body.
 */
function rangeOf(msg: JsMsg): FetchedBatch | undefined {
  const from = Number(msg.headers?.get(HEADER_FROM_POSITION) || NaN);
  const to = Number(msg.headers?.get(HEADER_TO_POSITION) || NaN);
  if (Number.isInteger(from) && Number.isInteger(to) && from >= 1 && to >= from) return { msg, fromPosition: from, toPosition: to };
  try {
    const decoded = decodeEventBatch(msg.data);
    return { msg, fromPosition: decoded.fromPosition, toPosition: decoded.toPosition, decoded };
  } catch {
    return undefined;
  }
}
