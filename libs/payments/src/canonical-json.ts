import type { Money, PaymentEventKind } from './payment-event.record.js';


/** JSON string literal. Only for free text: the other values are validated to need no escaping. */
const quote = JSON.stringify as (text: string) => string;

function amountJson(amount: Money): string {
  return `{"currency":"${amount.currency}","minorUnits":"${amount.minorUnits}"}`;
}

/**
 * The event as proto3 JSON with camelCase keys in a fixed order (eventId, merchantId,
 * occurredAt, then the kind with its fields in proto field order) and normalised values, so
 * that two submissions meaning the same event give the same text, and the same body hash.
 * Built by hand rather than with JSON.stringify of an object: the key order is then part of
 * this code, not of whoever built the object.
 */
export function canonicalEventJson(eventId: string, merchantId: string, occurredAt: string, event: PaymentEventKind): string {
  const head = `{"eventId":"${eventId}","merchantId":"${merchantId}","occurredAt":"${occurredAt}"`;
  switch (event.type) {
    case 'payment_completed': {
      const b = event.body;
      return (
        `${head},"paymentCompleted":{"paymentId":${quote(b.paymentId)},"customerId":${quote(b.customerId)},` +
        `"storeId":${quote(b.storeId)},"method":"${b.method}","amount":${amountJson(b.amount)}}}`
      );
    }
    case 'payment_failed': {
      const b = event.body;
      return (
        `${head},"paymentFailed":{"paymentId":${quote(b.paymentId)},"customerId":${quote(b.customerId)},` +
        `"storeId":${quote(b.storeId)},"method":"${b.method}","amount":${amountJson(b.amount)},"reason":${quote(b.reason)}}}`
      );
    }
    case 'payment_refunded': {
      const b = event.body;
      return (
        `${head},"paymentRefunded":{"paymentId":${quote(b.paymentId)},"refundId":${quote(b.refundId)},` +
        `"storeId":${quote(b.storeId)},"method":"${b.method}","amount":${amountJson(b.amount)}}}`
      );
    }
  }
}
