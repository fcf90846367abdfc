import { randomUUID } from 'node:crypto';

const RECORD_PATH = '/payments.v1.PaymentEventService/RecordPaymentEvents';

/**
 * Fixed id and body: the first run stores it, every later run against the same
 * data is answered as a duplicate, which shows idempotency at a glance.
 */
const SAMPLE_EVENT = {
  eventId: '5d3c6f0e-2b8a-4c1e-9f47-6a2d8e1b7c30',
  merchantId: 'm-1001',
  occurredAt: '2026-11-20T03:15:00Z',
  paymentCompleted: {
    paymentId: 'p-sample-1',
    customerId: 'c-9',
    storeId: 's-1',
    method: 'PAYMENT_METHOD_CARD',
    amount: { currency: 'JPY', minorUnits: '1200' },
  },
};

export interface SampleResult {
  status: number;
  body: string;
}

export async function submitSampleEvent(commandApiUrl: string, key: string): Promise<SampleResult> {
  const response = await fetch(commandApiUrl + RECORD_PATH, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'connect-protocol-version': '1',
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({ events: [SAMPLE_EVENT] }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.text()).trim() };
}

/** A fresh event id each time, so pasting the command stores a new event. */
export function curlCommand(commandApiUrl: string, key: string): string {
  const event = {
    ...SAMPLE_EVENT,
    eventId: randomUUID(),
    occurredAt: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    paymentCompleted: { ...SAMPLE_EVENT.paymentCompleted, paymentId: `p-${randomUUID().slice(0, 8)}` },
  };
  return [
    `curl -sS ${commandApiUrl}${RECORD_PATH} \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -H 'Authorization: Bearer ${key}' \\`,
    `  -d '${JSON.stringify({ events: [event] })}'`,
  ].join('\n');
}
