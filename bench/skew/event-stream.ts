import { createHash, randomUUID } from 'node:crypto';
import { partitionOf } from '@app/event-store';
import { canonicalEventJson, type PaymentEventKind, type PaymentMethodName } from '@app/payments';
import { seededRandom } from '../../libs/merchant-metrics/src/testing/generated-events.js';
import {
  calibrateCustomers, CUSTOMER_EXPONENT, DAY_MS, FAILED_OF_ATTEMPTS, ONE_OFF_SHARE, REFUNDED_OF_COMPLETED, WINDOW_DAYS, type Population,
} from './population.js';
import { RefundQueue, type PendingRefund } from './refund-queue.js';
import { ZipfSampler } from './zipf.js';

/** COPY text of `event_store.events` and `event_store.event_ids` rows. */
export interface StoreChunk {
  events: string;
  ids: string;
  count: number;
}

/** What was generated, counted on the way (no second pass over the store). */
export interface GeneratedStats {
  events: number;
  completed: number;
  failed: number;
  refunded: number;
  largestWindowEvents: number;
  largestWindowCustomers: number;
  largestEvents: number;
  medianEvents: number;
  /** Events of the merchants at a few ranks, to show the skew. */
  byRank: Record<string, number>;
  /** Positions per event-store partition: the heads to set. */
  heads: number[];
  peakPendingRefunds: number;
}

const SLICE_MS = 60_000;
const METHODS: ReadonlyArray<[PaymentMethodName, number]> = [
  ['PAYMENT_METHOD_CARD', 0.45], ['PAYMENT_METHOD_WALLET', 0.2], ['PAYMENT_METHOD_QR', 0.15],
  ['PAYMENT_METHOD_POINTS', 0.1], ['PAYMENT_METHOD_BANK_TRANSFER', 0.1],
];
const REASONS = ['insufficient funds', 'card declined', 'expired card', 'network timeout', 'suspected fraud'];
/** Relative activity per local hour in Asia/Tokyo (quiet nights, lunch and evening peaks). */
const HOURLY = [0.25, 0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.6, 0.9, 1.1, 1.3, 1.5, 1.8, 1.6, 1.3, 1.2, 1.3, 1.5, 1.8, 1.7, 1.4, 1.0, 0.7, 0.4];
const TOKYO_OFFSET_HOURS = 9;
/** The largest merchant's window count is aimed this much high, so that chance never leaves it below the target. */
const WINDOW_MARGIN = 1.005;

const activity = (t: number) => HOURLY[(Math.floor(t / 3_600_000) + TOKYO_OFFSET_HOURS) % 24];

interface Attempt { t: number; rank: number }

/**
 * Generates the store's events in time order across all merchants, a minute
 * of wall-clock time at a time, as the command API would have stored them:
 * each minute's payment attempts (completed or failed), drawn per merchant
 * from the Zipf population, plus the refunds that fall due in it, which
 * refer to real earlier payments of the same merchant (half a day to a few
 * weeks later). Memory stays bounded by the refunds pending and per-merchant
 * counters, whatever the number of events.
 */
export class StoreEventGenerator {
  readonly stats: GeneratedStats;
  private readonly random: () => number;
  private readonly start: number;
  private readonly windowStart: number;
  private readonly others?: ZipfSampler;
  private readonly regularSamplers = new Map<number, ZipfSampler>();
  private readonly storeSamplers = new Map<number, ZipfSampler>();
  private readonly partitions: Int8Array;
  private readonly serials: Uint32Array;
  private readonly oneOffs: Uint32Array;
  private readonly counts: Uint32Array;
  private readonly largestRegulars: number;
  private readonly largestOneOff: number;
  private readonly largestSeen: Uint8Array;
  private readonly refunds = new RefundQueue();

  constructor(private readonly population: Population, readonly end: number, private readonly partitionCount: number) {
    const s = population.settings;
    this.random = seededRandom(s.seed);
    this.start = end - population.spanMs;
    this.windowStart = end - WINDOW_DAYS * DAY_MS;
    if (s.merchants >= 2) this.others = new ZipfSampler(2, s.merchants, s.exponent, this.random);
    this.partitions = new Int8Array(s.merchants + 1).fill(-1);
    this.serials = new Uint32Array(s.merchants + 1);
    this.oneOffs = new Uint32Array(s.merchants + 1);
    this.counts = new Uint32Array(s.merchants + 1);
    const calibrated = calibrateCustomers(s.largestEvents * 0.8, s.largestCustomers * WINDOW_MARGIN);
    this.largestRegulars = calibrated.regulars;
    this.largestOneOff = calibrated.oneOff;
    this.largestSeen = new Uint8Array(calibrated.regulars + 1);
    this.stats = {
      events: 0, completed: 0, failed: 0, refunded: 0, largestWindowEvents: 0, largestWindowCustomers: 0,
      largestEvents: 0, medianEvents: 0, byRank: {}, heads: new Array<number>(partitionCount).fill(0), peakPendingRefunds: 0,
    };
  }

  /** The store's rows, about `chunkEvents` per chunk. */
  *chunks(chunkEvents: number): Generator<StoreChunk> {
    const s = this.population.settings;
    // Expected attempts per minute follow the hourly activity, scaled so that each stream's total is exact.
    const weight = { window: 0, history: 0, all: 0 };
    for (let t = this.start; t < this.end; t += SLICE_MS) {
      const w = activity(t);
      weight.all += w;
      if (t >= this.windowStart) weight.window += w; else weight.history += w;
    }
    const attempts = 1 - 0.1; // refunds, the other tenth, come from the queue
    const perWeight = {
      window: (s.largestEvents * WINDOW_MARGIN * attempts) / weight.window,
      history: weight.history > 0 ? (s.largestHistory * attempts) / weight.history : 0,
      others: (this.population.othersEvents * attempts) / weight.all,
    };
    let largestCarry = 0;
    let othersCarry = 0;
    let events: string[] = [];
    let ids: string[] = [];
    for (let t0 = this.start; t0 < this.end; t0 += SLICE_MS) {
      const w = activity(t0);
      largestCarry += w * (t0 >= this.windowStart ? perWeight.window : perWeight.history);
      othersCarry += w * perWeight.others;
      const slice: Array<Attempt | PendingRefund> = this.refunds.popBefore(t0 + SLICE_MS);
      for (; largestCarry >= 1; largestCarry--) slice.push({ t: this.second(t0), rank: 1 });
      for (; othersCarry >= 1 && this.others; othersCarry--) slice.push({ t: this.second(t0), rank: this.others.sample() });
      slice.sort((a, b) => time(a) - time(b));
      for (const item of slice) {
        const row = 'due' in item ? this.refundRow(item) : this.attemptRow(item);
        events.push(row.event);
        ids.push(row.id);
      }
      if (events.length >= chunkEvents) {
        yield { events: events.join(''), ids: ids.join(''), count: events.length };
        events = [];
        ids = [];
      }
    }
    if (events.length > 0) yield { events: events.join(''), ids: ids.join(''), count: events.length };
    this.finishStats();
  }

  private second(t0: number): number {
    return t0 + Math.floor(this.random() * 60) * 1000;
  }

  private attemptRow(attempt: Attempt): { event: string; id: string } {
    const { t, rank } = attempt;
    const serial = ++this.serials[rank];
    const storeId = `s-${this.storeSampler(this.population.stores(rank)).sample()}`;
    const method = this.method();
    const currency = this.population.currency(rank, this.random());
    const amount = this.amount(currency);
    const customerId = this.customer(rank);
    const paymentId = `p-${serial}`;
    if (this.random() < FAILED_OF_ATTEMPTS) {
      const reason = REASONS[Math.floor(this.random() * REASONS.length)];
      this.stats.failed++;
      return this.row(rank, t, { type: 'payment_failed', body: { paymentId, customerId, storeId, method, amount: { currency, minorUnits: amount }, reason } });
    }
    this.stats.completed++;
    if (rank === 1 && t >= this.windowStart) this.countLargestCustomer(customerId);
    const delay = Math.max(60_000, (0.5 + this.exponential(3)) * DAY_MS);
    const latest = this.end - 1000 - t;
    if (this.random() < REFUNDED_OF_COMPLETED && latest > 60_000) {
      // A refund that would fall after the end comes earlier instead, so every tenth event stays a refund.
      const due = t + Math.ceil((delay < latest ? delay : 60_000 + this.random() * (latest - 60_000)) / 1000) * 1000;
      const partial = this.random() < 0.3;
      const refunded = partial ? BigInt(Math.max(1, Math.floor(Number(amount) * (0.1 + 0.8 * this.random())))) : amount;
      this.refunds.push({ due, rank, serial, storeId, method, currency, amount: refunded });
      if (this.refunds.size > this.stats.peakPendingRefunds) this.stats.peakPendingRefunds = this.refunds.size;
    }
    return this.row(rank, t, { type: 'payment_completed', body: { paymentId, customerId, storeId, method, amount: { currency, minorUnits: amount } } });
  }

  private refundRow(refund: PendingRefund): { event: string; id: string } {
    this.stats.refunded++;
    return this.row(refund.rank, refund.due, {
      type: 'payment_refunded',
      body: {
        paymentId: `p-${refund.serial}`, refundId: `r-${refund.serial}`, storeId: refund.storeId, method: refund.method as PaymentMethodName,
        amount: { currency: refund.currency, minorUnits: refund.amount },
      },
    });
  }

  /** One event's COPY lines: the stored row (payload: the canonical JSON the command API stores) and its id claim. */
  private row(rank: number, t: number, kind: PaymentEventKind): { event: string; id: string } {
    const merchantId = this.population.merchantId(rank);
    let p = this.partitions[rank];
    if (p < 0) p = this.partitions[rank] = partitionOf(merchantId, this.partitionCount);
    const position = ++this.stats.heads[p];
    const eventId = randomUUID();
    const occurredAt = new Date(t).toISOString().replace('.000Z', 'Z');
    const json = canonicalEventJson(eventId, merchantId, occurredAt, kind);
    this.stats.events++;
    this.counts[rank]++;
    if (rank === 1 && t >= this.windowStart) this.stats.largestWindowEvents++;
    // Generated text needs no COPY escaping: no backslash, tab or newline in any field.
    return {
      event: `${p}\t${position}\t${eventId}\t${merchantId}\t${kind.type}\t${occurredAt}\t${occurredAt}\t${json}\n`,
      id: `${eventId}\t\\\\x${createHash('sha256').update(json).digest('hex')}\n`,
    };
  }

  private customer(rank: number): string {
    const rankOne = rank === 1;
    const regulars = rankOne ? this.largestRegulars : this.population.regulars(rank);
    if (this.random() < (rankOne ? this.largestOneOff : ONE_OFF_SHARE)) return `o-${++this.oneOffs[rank]}`;
    let sampler = this.regularSamplers.get(regulars);
    if (sampler === undefined) this.regularSamplers.set(regulars, (sampler = new ZipfSampler(1, regulars, CUSTOMER_EXPONENT, this.random)));
    return `c-${sampler.sample()}`;
  }

  private countLargestCustomer(customerId: string): void {
    if (customerId.startsWith('o-')) {
      this.stats.largestWindowCustomers++;
      return;
    }
    const k = Number(customerId.slice(2));
    if (this.largestSeen[k] === 0) {
      this.largestSeen[k] = 1;
      this.stats.largestWindowCustomers++;
    }
  }

  private storeSampler(stores: number): ZipfSampler {
    let sampler = this.storeSamplers.get(stores);
    if (sampler === undefined) this.storeSamplers.set(stores, (sampler = new ZipfSampler(1, stores, 0.7, this.random)));
    return sampler;
  }

  private method(): PaymentMethodName {
    let roll = this.random();
    for (const [method, share] of METHODS) {
      if (roll < share) return method;
      roll -= share;
    }
    return METHODS[0][0];
  }

  /** Log-normal tickets: median ¥1,800 or 25.00 in USD and EUR. */
  private amount(currency: string): bigint {
    const normal = Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
    return BigInt(Math.max(1, Math.round((currency === 'JPY' ? 1800 : 2500) * Math.exp(0.9 * normal))));
  }

  private exponential(mean: number): number {
    return -mean * Math.log(1 - this.random());
  }

  private finishStats(): void {
    const ranks = [1, 2, 10, 100, 1000, 10_000, this.population.medianRank, this.population.settings.merchants];
    for (const r of ranks) if (r <= this.population.settings.merchants) this.stats.byRank[String(r)] = this.counts[r];
    this.stats.largestEvents = this.counts[1];
    this.stats.medianEvents = this.counts[this.population.medianRank];
  }
}

const time = (item: Attempt | PendingRefund) => ('due' in item ? item.due : item.t);
