import type { PaymentMethodName } from './payment-event.record.js';

/** Index = proto enum number; 0 (UNSPECIFIED) is not a method. */
export const PAYMENT_METHOD_NAMES: readonly (PaymentMethodName | undefined)[] = [
  undefined,
  'PAYMENT_METHOD_CARD',
  'PAYMENT_METHOD_WALLET',
  'PAYMENT_METHOD_QR',
  'PAYMENT_METHOD_BANK_TRANSFER',
  'PAYMENT_METHOD_POINTS',
];

const BY_NAME: ReadonlyMap<string, PaymentMethodName> = new Map(
  PAYMENT_METHOD_NAMES.filter((n) => n !== undefined).map((n) => [n, n]),
);

export const PAYMENT_METHOD_CHOICES =
  'must be one of PAYMENT_METHOD_CARD, PAYMENT_METHOD_WALLET, PAYMENT_METHOD_QR, PAYMENT_METHOD_BANK_TRANSFER, PAYMENT_METHOD_POINTS (or 1 to 5)';

/** proto3 JSON allows an enum as its name or its number. */
export function paymentMethodFromJson(value: string | number): PaymentMethodName | undefined {
  if (typeof value === 'string') return BY_NAME.get(value);
  return Number.isInteger(value) ? PAYMENT_METHOD_NAMES[value] : undefined;
}
