import { createHash, randomUUID } from 'node:crypto';
import type { NewEvent } from '../new-event.js';

/** A minimal stored-shape event for store-level tests (the API's validation is tested elsewhere). */
export function sampleEvent(overrides: Partial<{ eventId: string; merchantId: string; amount: number; occurredAt: string }> = {}): NewEvent {
  const eventId = overrides.eventId ?? randomUUID();
  const merchantId = overrides.merchantId ?? 'm-1';
  const occurredAt = overrides.occurredAt ?? '2026-11-20T03:15:00Z';
  const payloadJson = JSON.stringify({
    eventId,
    merchantId,
    occurredAt,
    paymentCompleted: {
      paymentId: `p-${eventId.slice(0, 8)}`,
      customerId: 'c-1',
      storeId: 's-1',
      method: 'PAYMENT_METHOD_CARD',
      amount: { currency: 'JPY', minorUnits: String(overrides.amount ?? 1200) },
    },
  });
  return {
    eventId,
    merchantId,
    type: 'payment_completed',
    occurredAt,
    payloadJson,
    bodyHash: createHash('sha256').update(payloadJson).digest(),
  };
}
