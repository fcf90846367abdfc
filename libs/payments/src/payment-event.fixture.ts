import { expect } from 'vitest';
import type { FieldError } from './validation-result.js';
import { validateRecordRequest, type RecordRequestOptions } from './record-request.validator.js';
import type { PaymentEventRecord } from './payment-event.record.js';

/** Test-only helpers: request bodies are plain JSON, mutated freely by each case. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export const OPTIONS: RecordRequestOptions = { now: new Date('2026-11-21T00:00:00Z'), maxFutureSkewMs: 300_000 };

/** The example from the API description (issue 2, section 3). */
export function completedEvent(): Json {
  return {
    eventId: '0f8c1a52-6d1b-4c55-9a57-2a3e1c1d0b11',
    merchantId: 'm-1001',
    occurredAt: '2026-11-20T03:15:00Z',
    paymentCompleted: {
      paymentId: 'p-1',
      customerId: 'c-9',
      storeId: 's-1',
      method: 'PAYMENT_METHOD_CARD',
      amount: { currency: 'JPY', minorUnits: '1200' },
    },
  };
}

export function failedEvent(): Json {
  return {
    eventId: '7d7a4f0e-3f0b-4c1e-8d55-0b8f5b0f6a01',
    merchantId: 'shop.tokyo:42',
    occurredAt: '2026-11-20T12:00:00.250+09:00',
    paymentFailed: {
      paymentId: 'p-2',
      customerId: 'c-9',
      storeId: 's-1',
      method: 'PAYMENT_METHOD_WALLET',
      amount: { currency: 'USD', minorUnits: '1999' },
      reason: 'insufficient funds',
    },
  };
}

export function refundedEvent(): Json {
  return {
    eventId: 'c3e0b2a4-1111-4d2e-9f00-1234567890ab',
    merchantId: 'm-1001',
    occurredAt: '2026-11-20T03:20:00.000001Z',
    paymentRefunded: {
      paymentId: 'p-1',
      refundId: 'r-1',
      storeId: 's-1',
      method: 'PAYMENT_METHOD_BANK_TRANSFER',
      amount: { currency: 'JPY', minorUnits: '200' },
    },
  };
}

export function request(...events: Json[]): Json {
  return { events };
}

export function recordsOf(body: unknown): PaymentEventRecord[] {
  const result = validateRecordRequest(body, OPTIONS);
  if (!result.ok) expect.fail(`expected a valid request, got ${JSON.stringify(result.errors)}`);
  return result.events;
}

export function errorsOf(body: unknown): FieldError[] {
  const result = validateRecordRequest(body, OPTIONS);
  if (result.ok) expect.fail('expected validation errors, the request was accepted');
  return result.errors;
}
