import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { decodeEventBatch, describeError, PAYMENTS_STREAM, type EventBatchMessage, type NatsConnector } from '@app/messaging';

export interface FetchedBatch {
  batch: EventBatchMessage;
  msg: JsMsg;
}

const MAX_ACK_PENDING = 10_000;

/**
 * The durable pull consumer of one partition for one projection version
 * (`merchant-metrics-v1-p3` on `payments.events.3`). It starts at new
 * messages: history comes from the event store, and a first message past the
 * checkpoint makes the worker read the missing positions from the store.
 *
 * Messages are pulled continuously (`consume`) into a buffer, and the worker
 * takes whatever has arrived: a fetch of N messages would wait for all N (or
 * for its expiry, at least a second), adding that to every event's freshness.
 */
export class PartitionConsumer {
  readonly name: string;
  private buffer: FetchedBatch[] = [];
  private wake?: () => void;
  private messages?: ConsumerMessages;
  private pulling?: Promise<void>;
  private failure?: unknown;
  private stopped = false;

  constructor(
    private readonly nats: NatsConnector,
    projection: string,
    version: number,
    private readonly partition: number,
    /** How long a delivered, unacknowledged message waits before JetStream redelivers it. */
    private readonly ackWaitMs = 30_000,
    private readonly bufferMessages = 256,
  ) {
    this.name = `${projection}-v${version}-p${partition}`;
  }

  /**
   * Up to `max` buffered messages, waiting at most `waitMs` for the first;
   * undefined while NATS is away. Throws the pull loop's last failure once.
   */
  async take(max: number, waitMs: number): Promise<FetchedBatch[] | undefined> {
    if (!this.nats.jetstream || !this.nats.manager) return undefined;
    this.pulling ??= this.pull();
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
    if (this.buffer.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
      this.wake = undefined;
    }
    return this.buffer.splice(0, max);
  }

  /** Drops buffered messages (unacked: they come back after the ack wait) and restarts the pull. */
  async reset(): Promise<void> {
    this.messages?.stop();
    await this.pulling;
    this.pulling = undefined;
    this.buffer = [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.reset();
  }

  private async pull(): Promise<void> {
    try {
      const js = this.nats.jetstream;
      const jsm = this.nats.manager;
      if (!js || !jsm) return;
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
      const consumer = await js.consumers.get(PAYMENTS_STREAM, this.name);
      this.messages = await consumer.consume({ max_messages: this.bufferMessages });
      for await (const msg of this.messages) {
        if (this.stopped) break;
        try {
          this.buffer.push({ batch: decodeEventBatch(msg.data), msg });
        } catch {
          // Not ours to fix: the store is the truth and the gap rule reads around it.
          msg.term();
        }
        this.wake?.();
      }
    } catch (error) {
      this.failure = new Error(`consumer ${this.name}: ${describeError(error)}`);
      this.wake?.();
    } finally {
      // Ended (stopped, or the consumer went away): the next take() starts a new pull.
      this.pulling = undefined;
    }
  }
}
