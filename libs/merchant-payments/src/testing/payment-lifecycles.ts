import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { EventStore, readPartitionCount } from '@app/event-store';
import { readStoredEvents, type PaymentEventJson, type PositionedEvent } from '@app/projections';
import { seededRandom } from '../../../merchant-metrics/src/testing/generated-events.js';
import { newEventOf } from '../../../projections/src/testing/new-events.js';

const METHODS = ['PAYMENT_METHOD_CARD', 'PAYMENT_METHOD_WALLET', 'PAYMENT_METHOD_QR'];

/**
 * Payments with whole lifecycles, over `merchants` merchants: completed,
 * failed, failed then completed (a retry), completed then failed (a late
 * failure notice), refunded in part, in full and beyond the amount, and
 * refunds of payments the stream never shows. Then the events are locally
 * shuffled, so that some refunds and failures are stored before the payment
 * they concern.
 */
export function paymentLifecycles(options: { seed: number; payments: number; merchants: number; prefix: string; from: Date; days: number }): PaymentEventJson[] {
  const random = seededRandom(options.seed);
  const events: PaymentEventJson[] = [];
  const at = (base: number, minutes: number) => new Date(base + minutes * 60_000).toISOString();
  for (let i = 0; i < options.payments; i++) {
    const merchantId = `${options.prefix}${Math.floor(random() ** 2 * options.merchants)}`;
    const paymentId = `pay-${i}`;
    const base = options.from.getTime() + Math.floor(random() * options.days * 86_400) * 1000;
    const body = {
      paymentId, customerId: `cust-${Math.floor(random() * 40)}`, storeId: `store-${Math.floor(random() * 5)}`,
      method: METHODS[Math.floor(random() * METHODS.length)]!, amount: { currency: 'JPY', minorUnits: String(100 + Math.floor(random() * 9900)) },
    };
    const completed = (minutes: number) => events.push({ eventId: randomUUID(), merchantId, occurredAt: at(base, minutes), paymentCompleted: body });
    const failed = (minutes: number, reason: string) => events.push({ eventId: randomUUID(), merchantId, occurredAt: at(base, minutes), paymentFailed: { ...body, reason } });
    const refunded = (minutes: number, minorUnits: number, n: number) => events.push({
      eventId: randomUUID(), merchantId, occurredAt: at(base, minutes),
      paymentRefunded: { paymentId, refundId: `${paymentId}-r${n}`, storeId: body.storeId, method: body.method, amount: { currency: 'JPY', minorUnits: String(minorUnits) } },
    });
    const amount = Number(body.amount.minorUnits);
    const roll = random();
    if (roll < 0.55) completed(0);
    else if (roll < 0.7) failed(0, 'card_declined');
    else if (roll < 0.77) { failed(0, 'insufficient_funds'); completed(3); }
    else if (roll < 0.8) { completed(0); failed(2, 'late_decline'); }
    else if (roll < 0.88) { completed(0); refunded(60, Math.max(1, Math.floor(amount / 3)), 1); }
    else if (roll < 0.94) { completed(0); refunded(60, amount, 1); }
    else if (roll < 0.97) { completed(0); refunded(30, amount, 1); refunded(90, 50, 2); }
    else refunded(10, 250, 1);
  }
  // Local shuffle: swap each event with one up to 8 places later.
  for (let i = 0; i < events.length; i++) {
    const j = Math.min(events.length - 1, i + Math.floor(random() * 8));
    [events[i], events[j]] = [events[j]!, events[i]!];
  }
  return events;
}

/** Appends events to the store (in order, 500 per append) and returns them as stored, by partition, in position order. */
export async function storeEvents(pool: pg.Pool, events: readonly PaymentEventJson[]): Promise<Map<number, PositionedEvent[]>> {
  const partitions = await readPartitionCount(pool);
  const store = new EventStore(pool, partitions);
  for (let i = 0; i < events.length; i += 500) {
    await store.append(events.slice(i, i + 500).map(newEventOf));
  }
  const source = readStoredEvents(pool);
  const byPartition = new Map<number, PositionedEvent[]>();
  for (let p = 0; p < partitions; p++) {
    const stored: PositionedEvent[] = [];
    for (let batch = await source.read(p, 0, 10_000); batch.length > 0; batch = await source.read(p, batch[batch.length - 1]!.position, 10_000)) stored.push(...batch);
    byPartition.set(p, stored);
  }
  return byPartition;
}
