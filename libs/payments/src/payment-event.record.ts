export type PaymentEventType = 'payment_completed' | 'payment_failed' | 'payment_refunded';

export type PaymentMethodName =
  | 'PAYMENT_METHOD_CARD'
  | 'PAYMENT_METHOD_WALLET'
  | 'PAYMENT_METHOD_QR'
  | 'PAYMENT_METHOD_BANK_TRANSFER'
  | 'PAYMENT_METHOD_POINTS';

export interface Money {
  /** Active ISO 4217 alphabetic code, upper case. */
  currency: string;
  /** Strictly positive, at most 2^63 - 1. */
  minorUnits: bigint;
}

export interface PaymentCompletedBody {
  paymentId: string;
  customerId: string;
  storeId: string;
  method: PaymentMethodName;
  amount: Money;
}

export interface PaymentFailedBody extends PaymentCompletedBody {
  reason: string;
}

export interface PaymentRefundedBody {
  paymentId: string;
  refundId: string;
  storeId: string;
  method: PaymentMethodName;
  amount: Money;
}

interface PaymentEventRecordBase {
  /** Lower-case UUID. */
  eventId: string;
  merchantId: string;
  /** Canonical UTC RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction without trailing zeros]Z`. */
  occurredAt: string;
  /** Microseconds since the Unix epoch, truncated. */
  occurredAtMicros: bigint;
  /** The event in proto3 JSON, camelCase keys in a fixed order: equal meaning gives equal text. */
  canonicalJson: string;
  /** SHA-256 of `canonicalJson` (UTF-8). */
  bodyHash: Buffer;
}

/** What varies with the kind of event: its type and its typed body. */
export type PaymentEventKind =
  | { type: 'payment_completed'; body: PaymentCompletedBody }
  | { type: 'payment_failed'; body: PaymentFailedBody }
  | { type: 'payment_refunded'; body: PaymentRefundedBody };

/** A validated, normalised payment event, ready to be stored. */
export type PaymentEventRecord = PaymentEventRecordBase & PaymentEventKind;
