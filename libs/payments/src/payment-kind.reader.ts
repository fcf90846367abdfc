import type { FieldError } from './validation-result.js';
import type {
  Money,
  PaymentCompletedBody,
  PaymentFailedBody,
  PaymentMethodName,
  PaymentRefundedBody,
} from './payment-event.record.js';
import { REPORTED, fieldPath, report, requiredString } from './field-errors.js';
import { MessageShape, readMessageFields } from './message-fields.reader.js';
import { PAYMENT_METHOD_CHOICES, paymentMethodFromJson } from './payment-method.js';
import { readMinorUnits } from './minor-units.parser.js';
import { readId, readReason } from './text-field.checks.js';
import { isActiveCurrency } from './currencies.js';

const MONEY = new MessageShape([
  ['currency', 'currency'],
  ['minorUnits', 'minor_units'],
]);

// Slots follow proto field order, which is also the canonical JSON order.
const COMPLETED = new MessageShape([
  ['paymentId', 'payment_id'],
  ['customerId', 'customer_id'],
  ['storeId', 'store_id'],
  ['method', 'method'],
  ['amount', 'amount'],
]);
const FAILED = new MessageShape([
  ['paymentId', 'payment_id'],
  ['customerId', 'customer_id'],
  ['storeId', 'store_id'],
  ['method', 'method'],
  ['amount', 'amount'],
  ['reason', 'reason'],
]);
const REFUNDED = new MessageShape([
  ['paymentId', 'payment_id'],
  ['refundId', 'refund_id'],
  ['storeId', 'store_id'],
  ['method', 'method'],
  ['amount', 'amount'],
]);

function readCurrency(value: unknown, errors: FieldError[], objectPath: string): string | undefined {
  const code = requiredString(value, errors, objectPath, 'currency');
  if (code === undefined) return undefined;
  if (isActiveCurrency(code)) return code;
  const upper = code.toUpperCase();
  const message = isActiveCurrency(upper) ? `must be upper case ("${upper}")` : 'must be an active ISO 4217 currency code';
  report(errors, objectPath, 'currency', message);
  return undefined;
}

function readAmount(value: unknown, errors: FieldError[], objectPath: string): Money | undefined {
  if (value === undefined) report(errors, objectPath, 'amount', 'is required');
  if (value === undefined || value === REPORTED) return undefined;
  const path = fieldPath(objectPath, 'amount');
  const fields = readMessageFields(value, MONEY, errors, path);
  if (fields === undefined) return undefined;
  const currency = readCurrency(fields[0], errors, path);
  const minorUnits = readMinorUnits(fields[1], errors, path, 'minorUnits');
  return currency === undefined || minorUnits === undefined ? undefined : { currency, minorUnits };
}

function readMethod(value: unknown, errors: FieldError[], objectPath: string): PaymentMethodName | undefined {
  if (typeof value === 'string' || typeof value === 'number') {
    const method = paymentMethodFromJson(value);
    if (method !== undefined) return method;
    report(errors, objectPath, 'method', PAYMENT_METHOD_CHOICES);
  } else if (value === undefined) {
    report(errors, objectPath, 'method', 'is required');
  } else if (value !== REPORTED) {
    report(errors, objectPath, 'method', 'must be an enum name or number');
  }
  return undefined;
}

export function readPaymentCompleted(raw: unknown, errors: FieldError[], path: string): PaymentCompletedBody | undefined {
  const f = readMessageFields(raw, COMPLETED, errors, path);
  if (f === undefined) return undefined;
  const paymentId = readId(f[0], errors, path, 'paymentId');
  const customerId = readId(f[1], errors, path, 'customerId');
  const storeId = readId(f[2], errors, path, 'storeId');
  const method = readMethod(f[3], errors, path);
  const amount = readAmount(f[4], errors, path);
  if (paymentId === undefined || customerId === undefined || storeId === undefined || method === undefined || amount === undefined) {
    return undefined;
  }
  return { paymentId, customerId, storeId, method, amount };
}

export function readPaymentFailed(raw: unknown, errors: FieldError[], path: string): PaymentFailedBody | undefined {
  const f = readMessageFields(raw, FAILED, errors, path);
  if (f === undefined) return undefined;
  const paymentId = readId(f[0], errors, path, 'paymentId');
  const customerId = readId(f[1], errors, path, 'customerId');
  const storeId = readId(f[2], errors, path, 'storeId');
  const method = readMethod(f[3], errors, path);
  const amount = readAmount(f[4], errors, path);
  const reason = readReason(f[5], errors, path, 'reason');
  if (
    paymentId === undefined ||
    customerId === undefined ||
    storeId === undefined ||
    method === undefined ||
    amount === undefined ||
    reason === undefined
  ) {
    return undefined;
  }
  return { paymentId, customerId, storeId, method, amount, reason };
}

export function readPaymentRefunded(raw: unknown, errors: FieldError[], path: string): PaymentRefundedBody | undefined {
  const f = readMessageFields(raw, REFUNDED, errors, path);
  if (f === undefined) return undefined;
  const paymentId = readId(f[0], errors, path, 'paymentId');
  const refundId = readId(f[1], errors, path, 'refundId');
  const storeId = readId(f[2], errors, path, 'storeId');
  const method = readMethod(f[3], errors, path);
  const amount = readAmount(f[4], errors, path);
  if (paymentId === undefined || refundId === undefined || storeId === undefined || method === undefined || amount === undefined) {
    return undefined;
  }
  return { paymentId, refundId, storeId, method, amount };
}
