import { sendEvents } from '../../apps/projector/src/testing/send-events.js';
import type { PaymentEventJson } from '../../libs/projections/src/payment-event.json.js';

/** One request the command API accepted; times are `performance.now()`. */
export interface AcceptedBatch {
  sentAt: number;
  acceptedAt: number;
  events: number;
}

/**
 * A producer that keeps sending batches through the command API, one request
 * at a time with a pause between them, until stopped: steady ingest for as
 * long as some other work lasts, rather than a burst that ends before it.
 */
export class PacedProducer {
  /** Every event the command API accepted, in the order sent. */
  readonly sent: PaymentEventJson[] = [];
  readonly batches: AcceptedBatch[] = [];
  private stopAt?: number;
  private readonly waiters: Array<{ batches: number; resolve: () => void; reject: (error: unknown) => void }> = [];
  private failure?: unknown;
  private readonly loop: Promise<void>;

  /** `nextBatch(k)` makes the k-th batch (from 0); it may rely on every earlier batch being stored. */
  constructor(url: string, key: string, nextBatch: (k: number) => PaymentEventJson[], pauseMs: number) {
    this.loop = (async () => {
      // Runs until a batch sent after stop() was called has been accepted, so ingest outlasts what it overlaps.
      while (this.stopAt === undefined || !this.batches.some((b) => b.sentAt >= this.stopAt!)) {
        const events = nextBatch(this.batches.length);
        const sentAt = performance.now();
        const accepted = await sendEvents(url, key, events);
        if (accepted !== events.length) throw new Error(`batch ${this.batches.length}: ${accepted} of ${events.length} events accepted`);
        this.sent.push(...events);
        this.batches.push({ sentAt, acceptedAt: performance.now(), events: events.length });
        this.settle();
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    })().catch((error: unknown) => {
      this.failure = error;
      this.settle();
    });
  }

  /** Resolves once `batches` requests have been accepted; rejects if the producer failed first. */
  accepted(batches: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ batches, resolve, reject });
      this.settle();
    });
  }

  /** Events accepted in requests sent at or after `from` and answered at or before `to`. */
  acceptedBetween(from: number, to: number): number {
    return this.batches.filter((b) => b.sentAt >= from && b.acceptedAt <= to).reduce((n, b) => n + b.events, 0);
  }

  /** Events accepted in requests answered before `at`. */
  acceptedBefore(at: number): number {
    return this.batches.filter((b) => b.acceptedAt < at).reduce((n, b) => n + b.events, 0);
  }

  /** Stops after one more accepted request; rethrows any failure of the loop. */
  async stop(): Promise<void> {
    this.stopAt = performance.now();
    await this.loop;
    if (this.failure !== undefined) throw this.failure;
  }

  private settle(): void {
    for (const waiter of [...this.waiters]) {
      if (this.failure !== undefined) waiter.reject(this.failure);
      else if (this.batches.length >= waiter.batches) waiter.resolve();
      else continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
    }
  }
}
