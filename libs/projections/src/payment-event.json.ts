/**
 * A stored payment event as JSON (the canonical proto3 JSON the event store
 * keeps and the PAYMENTS stream carries; see docs/message-format.md). The
 * store validated it on the way in, so projections read it without re-validating.
 */
export interface MoneyJson {
  currency: string;
  minorUnits: string;
}

export interface PaymentEventJson {
  eventId: string;
  merchantId: string;
  occurredAt: string;
  paymentCompleted?: { paymentId: string; customerId: string; storeId: string; method: string; amount: MoneyJson };
  paymentFailed?: { paymentId: string; customerId: string; storeId: string; method: string; amount: MoneyJson; reason?: string };
  paymentRefunded?: { paymentId: string; refundId: string; storeId: string; method: string; amount: MoneyJson };
}

/** An event with its place in the store. */
export interface PositionedEvent {
  position: number;
  recordedAt: string;
  event: PaymentEventJson;
}

const METHOD_PREFIX = 'PAYMENT_METHOD_';

/** `PAYMENT_METHOD_CARD` → `CARD`: the read model and the API use the short names. */
export function shortMethod(method: string): string {
  return method.startsWith(METHOD_PREFIX) ? method.slice(METHOD_PREFIX.length) : method;
}
