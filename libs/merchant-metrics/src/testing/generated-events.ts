import type { PaymentEventJson } from '@app/projections';

/** A small seeded PRNG (mulberry32), so generated data sets are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const METHODS = ['PAYMENT_METHOD_CARD', 'PAYMENT_METHOD_WALLET', 'PAYMENT_METHOD_QR', 'PAYMENT_METHOD_BANK_TRANSFER', 'PAYMENT_METHOD_POINTS'];
const CURRENCIES = ['JPY', 'USD', 'EUR'];

export interface GenerateOptions {
  seed: number;
  count: number;
  merchants: number;
  /** Prefix of merchant ids, so tests sharing a database do not collide. */
  merchantPrefix: string;
  /** occurredAt is spread uniformly over [from, to). */
  from: Date;
  to: Date;
  customersPerMerchant?: number;
  stores?: number;
}

/**
 * Valid producer-shaped events (proto3 JSON, as sent to the command API):
 * about 80% completed, 10% failed, 10% refunded, over several merchants,
 * currencies, methods, stores and customers.
 */
export function generateEvents(options: GenerateOptions): PaymentEventJson[] {
  const random = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const span = options.to.getTime() - options.from.getTime();
  const events: PaymentEventJson[] = [];
  for (let i = 0; i < options.count; i++) {
    const m = Math.floor(random() * options.merchants);
    const merchantId = `${options.merchantPrefix}${m}`;
    const occurredAt = new Date(options.from.getTime() + Math.floor(random() * span / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    const amount = { currency: CURRENCIES[m % 2 === 0 ? 0 : Math.floor(random() * 3)], minorUnits: String(1 + Math.floor(random() * 100_000)) };
    const storeId = `s-${Math.floor(random() * (options.stores ?? 3))}`;
    const method = pick(METHODS);
    const paymentId = `p-${i}`;
    const customerId = `c-${Math.floor(random() * (options.customersPerMerchant ?? 50))}`;
    const roll = random();
    const base = { eventId: uuidFrom(random), merchantId, occurredAt };
    if (roll < 0.8) events.push({ ...base, paymentCompleted: { paymentId, customerId, storeId, method, amount } });
    else if (roll < 0.9) events.push({ ...base, paymentFailed: { paymentId, customerId, storeId, method, amount, reason: 'declined' } });
    else events.push({ ...base, paymentRefunded: { paymentId, refundId: `r-${i}`, storeId, method, amount } });
  }
  return events;
}

export interface ExpectedTotals {
  completed: number;
  gross: bigint;
  refunds: number;
  refunded: bigint;
  failed: number;
  customers: Set<string>;
}

/**
 * Per merchant and currency, totals computed straight from the events with
 * none of the projection's code: the independent truth tests compare against.
 */
export function expectedTotals(events: readonly PaymentEventJson[]): Map<string, ExpectedTotals> {
  const totals = new Map<string, ExpectedTotals>();
  const of = (merchantId: string, currency: string) => {
    const key = `${merchantId}/${currency}`;
    let t = totals.get(key);
    if (!t) totals.set(key, (t = { completed: 0, gross: 0n, refunds: 0, refunded: 0n, failed: 0, customers: new Set() }));
    return t;
  };
  for (const e of events) {
    if (e.paymentCompleted) {
      const t = of(e.merchantId, e.paymentCompleted.amount.currency);
      t.completed++;
      t.gross += BigInt(e.paymentCompleted.amount.minorUnits);
      t.customers.add(e.paymentCompleted.customerId);
    } else if (e.paymentFailed) {
      of(e.merchantId, e.paymentFailed.amount.currency).failed++;
    } else if (e.paymentRefunded) {
      const t = of(e.merchantId, e.paymentRefunded.amount.currency);
      t.refunds++;
      t.refunded += BigInt(e.paymentRefunded.amount.minorUnits);
    }
  }
  return totals;
}
