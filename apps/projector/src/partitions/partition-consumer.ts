import { AckPolicy, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { decodeEventBatch, PAYMENTS_STREAM, type EventBatchMessage, type NatsConnector } from '@app/messaging';

export interface FetchedBatch {
  batch: EventBatchMessage;
  msg: JsMsg;
}

/**
 * The durable pull consumer of one partition for one projection version
 * (`merchant-metrics-v1-p3` on `payments.events.3`). It starts at new
 * messages: history comes from the event store, and a first message past the
 * checkpoint makes the worker read the missing positions from the store.
 */
export class PartitionConsumer {
  private ensured = false;
  readonly name: string;

  constructor(
    private readonly nats: NatsConnector,
    projection: string,
    version: number,
    private readonly partition: number,
  ) {
    this.name = `${projection}-v${version}-p${partition}`;
  }

  /** Up to `max` messages, waiting at most `expiresMs`; undefined while NATS is away. */
  async fetch(max: number, expiresMs: number): Promise<FetchedBatch[] | undefined> {
    const js = this.nats.jetstream;
    const jsm = this.nats.manager;
    if (!js || !jsm) return undefined;
    if (!this.ensured) {
      const exists = await jsm.consumers.info(PAYMENTS_STREAM, this.name).catch(() => undefined);
      if (!exists) {
        await jsm.consumers.add(PAYMENTS_STREAM, {
          durable_name: this.name,
          filter_subject: `payments.events.${this.partition}`,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.New,
          ack_wait: nanos(30_000),
          max_ack_pending: 10_000,
        });
      }
      this.ensured = true;
    }
    const consumer = await js.consumers.get(PAYMENTS_STREAM, this.name);
    const messages = await consumer.fetch({ max_messages: max, expires: expiresMs });
    const out: FetchedBatch[] = [];
    for await (const msg of messages) {
      try {
        out.push({ batch: decodeEventBatch(msg.data), msg });
      } catch {
        // Not ours to fix: the store is the truth and the gap rule will read around it.
        msg.term();
      }
    }
    return out;
  }

  /** After a failure, re-check the consumer (a restarted NATS may have lost it). */
  reset(): void {
    this.ensured = false;
  }
}
