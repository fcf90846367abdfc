import pg from 'pg';
import { applyEvents, type ProjectionTarget } from '@app/merchant-metrics';
import { readCheckpoints, type PaymentEventJson, type PositionedEvent } from '@app/projections';
import { seededRandom } from '../../libs/merchant-metrics/src/testing/generated-events.js';
import type { MerchantShape } from './metrics-dataset.js';
import type { MerchantSkew } from './merchant-skew.js';

export interface IngestOptions {
  url: string;
  target: ProjectionTarget;
  eventsPerSecond: number;
  skew: MerchantSkew;
  shapes: readonly MerchantShape[];
  /** Merchant i's event-store partition. */
  partitions: readonly number[];
  merchantId(i: number): string;
  /** The bench's clock: events occur at this instant plus the real time since start(), up to a minute late. */
  clockStart: Date;
  seed: number;
}

export interface IngestCount {
  at: number;
  events: number;
  transactions: number;
}

/** How often the writer applies what is due: about what a projector's batch waits for under steady ingest. */
const TICK_MS = 200;
/** Connections applying partitions side by side (a projector process runs a worker per partition it leases). */
const CONNECTIONS = 2;
const METHODS = ['PAYMENT_METHOD_CARD', 'PAYMENT_METHOD_WALLET', 'PAYMENT_METHOD_QR', 'PAYMENT_METHOD_BANK_TRANSFER', 'PAYMENT_METHOD_POINTS'];

/**
 * New events applied to the live version while the clients ask, through the
 * projector's own path (applyEvents: cells, rollups below the rollup
 * watermark, merchant watermarks and the checkpoint in one transaction per
 * partition and tick), so watermarks move as they do in production and some
 * repeated questions miss. Merchants are drawn with the data set's skew; the
 * events have the data set's stores, customers and currency. Paced: what is
 * due every TICK_MS, by the rate and the time since start().
 */
export class IngestWriter {
  private readonly clients: pg.Client[] = [];
  private readonly checkpoints: number[] = [];
  private readonly random: () => number;
  private events = 0;
  private transactions = 0;
  private stopping = false;
  private paused = false;
  /** Resolves when the loop has finished its tick after pause() or stop(). */
  private settled?: () => void;
  private running?: Promise<void>;
  private startedAt = 0;
  private failure?: Error;

  constructor(private readonly options: IngestOptions) {
    this.random = seededRandom(options.seed);
  }

  async start(): Promise<void> {
    for (let c = 0; c < CONNECTIONS; c++) {
      // Counted as the projector's in the CPU split (cpu.ts names backends by application).
      const client = new pg.Client({ connectionString: this.options.url, application_name: 'projector' });
      await client.connect();
      this.clients.push(client);
    }
    for (const checkpoint of await readCheckpoints(this.clients[0], this.options.target.projection, this.options.target.version)) {
      this.checkpoints[checkpoint.partition] = checkpoint.position;
    }
    this.startedAt = performance.now();
    this.running = this.loop().catch((error: Error) => { this.failure = error; });
  }

  count(): IngestCount {
    if (this.failure) throw new Error(`the ingest writer failed: ${this.failure.message}`);
    return { at: performance.now(), events: this.events, transactions: this.transactions };
  }

  /** Stops applying after the tick in flight (which this waits for), until resume(). */
  async pause(): Promise<void> {
    if (this.paused || !this.running) return;
    await new Promise<void>((resolve) => { this.settled = resolve; this.paused = true; });
  }

  /** Applies again at the rate, from now: what was not due while paused is not caught up. */
  resume(): void {
    if (!this.paused) return;
    this.startedAt = performance.now() - (this.events * 1000) / this.options.eventsPerSecond;
    this.paused = false;
  }

  async stop(): Promise<IngestCount> {
    this.stopping = true;
    await this.running;
    await Promise.all(this.clients.map((c) => c.end().catch(() => undefined)));
    return this.count();
  }

  private async loop(): Promise<void> {
    const { eventsPerSecond } = this.options;
    while (!this.stopping) {
      if (this.paused) {
        this.settled?.();
        this.settled = undefined;
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
        continue;
      }
      const tick = performance.now();
      // What is due by now, at most a second's worth per tick: a writer behind stays behind, and says so in its rate.
      const due = Math.min(eventsPerSecond, Math.floor((eventsPerSecond * (tick - this.startedAt)) / 1000) - this.events);
      if (due > 0) await this.apply(this.generate(due));
      const wait = TICK_MS - (performance.now() - tick);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private generate(count: number): Map<number, PositionedEvent[]> {
    const { skew, shapes, partitions, clockStart } = this.options;
    const random = this.random;
    const byPartition = new Map<number, PositionedEvent[]>();
    const recordedAt = new Date().toISOString();
    const clock = clockStart.getTime() + (performance.now() - this.startedAt);
    for (let k = 0; k < count; k++) {
      const i = skew.draw(random);
      const p = partitions[i];
      const n = this.events + k;
      const event = paymentEvent(this.options.merchantId(i), shapes[i], n, new Date(clock - Math.floor(random() * 60_000)), random);
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push({ position: (this.checkpoints[p] ?? 0) + list.length + 1, recordedAt, event });
    }
    return byPartition;
  }

  private async apply(byPartition: Map<number, PositionedEvent[]>): Promise<void> {
    const work = [...byPartition];
    await Promise.all(this.clients.map(async (client, c) => {
      for (const [p, events] of work) {
        if (p % CONNECTIONS !== c) continue;
        this.checkpoints[p] = await applyEvents(client, this.options.target, p, this.checkpoints[p] ?? 0, events);
        this.events += events.length;
        this.transactions++;
      }
    }));
  }
}

/** A payment event as producers send them: 80% completed, 10% failed, 10% refunded, in the data set's currency (JPY). */
function paymentEvent(merchantId: string, shape: MerchantShape, n: number, occurredAt: Date, random: () => number): PaymentEventJson {
  const amount = { currency: 'JPY', minorUnits: String(1 + Math.floor(random() * 100_000)) };
  const storeId = `s-${Math.floor(random() * shape.stores)}`;
  const method = METHODS[Math.floor(random() * METHODS.length)];
  const paymentId = `live-${n}`;
  const customerId = `c-${Math.floor(random() * shape.customers)}`;
  const roll = random();
  const base = { eventId: `00000000-0000-4000-a000-${String(n).padStart(12, '0')}`, merchantId, occurredAt: occurredAt.toISOString() };
  if (roll < 0.8) return { ...base, paymentCompleted: { paymentId, customerId, storeId, method, amount } };
  if (roll < 0.9) return { ...base, paymentFailed: { paymentId, customerId, storeId, method, amount, reason: 'declined' } };
  return { ...base, paymentRefunded: { paymentId, refundId: `live-r-${n}`, storeId, method, amount } };
}
