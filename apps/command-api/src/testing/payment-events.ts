import { randomUUID } from 'node:crypto';

/** A valid JSON PaymentEvent as a producer would send it. */
export function completedEvent(overrides: Record<string, unknown> = {}, amount = '1200'): Record<string, unknown> {
  return {
    eventId: randomUUID(),
    merchantId: 'm-1001',
    occurredAt: '2026-11-20T03:15:00Z',
    paymentCompleted: {
      paymentId: `p-${randomUUID().slice(0, 8)}`,
      customerId: 'c-9',
      storeId: 's-1',
      method: 'PAYMENT_METHOD_CARD',
      amount: { currency: 'JPY', minorUnits: amount },
    },
    ...overrides,
  };
}
