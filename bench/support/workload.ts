import { randomUUID } from 'node:crypto';

/**
 * Synthetic payment events as producers would send them: unique v4 ids,
 * merchants drawn uniformly from `m-0 … m-(merchants-1)`, about 85% completed,
 * 10% failed and 5% refunded payments, occurredAt within the last day (never
 * in the future), mostly JPY with some USD and EUR.
 */
export class EventFactory {
  private state: number;
  private readonly now: number;

  /** `occurredWithinMs`: how far back occurredAt is spread (default a day; points of sale send seconds-old events). */
  constructor(private readonly merchants: number, seed = 0x5eed, private readonly occurredWithinMs = 86_400_000) {
    this.state = seed >>> 0;
    // Five minutes back, so no event is in the future even with some clock drift.
    this.now = Date.now() - 5 * 60_000;
  }

  /** mulberry32: cheap and good enough for field values (ids come from the CSPRNG). */
  private random(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** One event as JSON text, in the API's request format. */
  nextJson(): string {
    const merchant = this.int(this.merchants);
    const occurredAt = new Date(this.now - this.int(this.occurredWithinMs)).toISOString();
    const head = `{"eventId":"${randomUUID()}","merchantId":"m-${merchant}","occurredAt":"${occurredAt}"`;
    const method = METHODS[this.int(METHODS.length)];
    const c = this.random();
    const currency = c < 0.8 ? 'JPY' : c < 0.9 ? 'USD' : 'EUR';
    const amount = `{"currency":"${currency}","minorUnits":"${currency === 'JPY' ? 100 + this.int(50_000) : 100 + this.int(20_000)}"}`;
    const payment = `p-${this.int(1e9)}`;
    const store = `s-${merchant}-${this.int(5)}`;
    const kind = this.random();
    if (kind < 0.85) {
      return `${head},"paymentCompleted":{"paymentId":"${payment}","customerId":"c-${this.int(1_000_000)}","storeId":"${store}","method":"${method}","amount":${amount}}}`;
    }
    if (kind < 0.95) {
      const reason = REASONS[this.int(REASONS.length)];
      return `${head},"paymentFailed":{"paymentId":"${payment}","customerId":"c-${this.int(1_000_000)}","storeId":"${store}","method":"${method}","amount":${amount},"reason":"${reason}"}}`;
    }
    return `${head},"paymentRefunded":{"paymentId":"${payment}","refundId":"r-${this.int(1e9)}","storeId":"${store}","method":"${method}","amount":${amount}}}`;
  }

  /** A request body of `size` events. */
  nextBody(size: number): Buffer {
    const events = new Array<string>(size);
    for (let i = 0; i < size; i++) events[i] = this.nextJson();
    return Buffer.from(`{"events":[${events.join(',')}]}`, 'utf8');
  }
}

const METHODS = ['PAYMENT_METHOD_CARD', 'PAYMENT_METHOD_WALLET', 'PAYMENT_METHOD_QR', 'PAYMENT_METHOD_BANK_TRANSFER', 'PAYMENT_METHOD_POINTS'];
const REASONS = ['insufficient funds', 'card declined', 'expired card', 'network timeout', 'suspected fraud'];
