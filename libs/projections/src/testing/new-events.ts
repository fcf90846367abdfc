import { createHash } from 'node:crypto';
import type { NewEvent } from '@app/event-store';
import type { PaymentEventJson } from '../payment-event.json.js';

/** A payment event as an append takes it, its JSON text as the payload (tests append without the command API). */
export function newEventOf(e: PaymentEventJson): NewEvent {
  const payloadJson = JSON.stringify(e);
  const type = e.paymentCompleted ? 'payment_completed' : e.paymentFailed ? 'payment_failed' : 'payment_refunded';
  return { eventId: e.eventId, merchantId: e.merchantId, type, occurredAt: e.occurredAt, payloadJson, bodyHash: createHash('sha256').update(payloadJson).digest() };
}
