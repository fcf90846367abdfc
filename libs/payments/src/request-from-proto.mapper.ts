import type { Message } from '@bufbuild/protobuf';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import type {
  Money,
  PaymentCompleted,
  PaymentEvent,
  PaymentFailed,
  PaymentRefunded,
  RecordPaymentEventsRequest,
} from '@app/contracts';
import { UNKNOWN_FIELDS, type UnknownFieldRef, type WithUnknownFields } from './message-fields.reader.js';
import { PAYMENT_METHOD_NAMES } from './payment-method.js';
import { utcDateTime } from './occurred-at.parser.js';

type JsonObject = Record<string, unknown> & WithUnknownFields;

/** Notes the unknown fields of `message` (parsed into `$unknown` by fromBinary) on `target`. */
function noteUnknown(target: JsonObject, message: Message, field?: string): void {
  const unknown = message.$unknown;
  if (unknown === undefined || unknown.length === 0) return;
  const refs: UnknownFieldRef[] = (target[UNKNOWN_FIELDS] ??= []);
  const seen = new Set<number>();
  for (const { no } of unknown) {
    if (seen.has(no)) continue;
    seen.add(no);
    refs.push(field === undefined ? { no } : { field, no });
  }
}

/** proto3 cannot tell '' from unset: leave it out, so the validator reports the field as required. */
function putString(target: JsonObject, key: string, value: string): void {
  if (value !== '') target[key] = value;
}

/**
 * RFC 3339 with every nanosecond kept. A Timestamp out of its documented range (years
 * 0001-9999, nanos 0 to 999 999 999) becomes text the validator rejects.
 */
function timestampToJson(ts: Timestamp): string {
  const seconds = Number(ts.seconds);
  const nanos = ts.nanos;
  if (!Number.isSafeInteger(seconds) || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
    return `Timestamp{seconds: ${ts.seconds}, nanos: ${nanos}}`;
  }
  const dateTime = utcDateTime(seconds);
  return nanos === 0 ? `${dateTime}Z` : `${dateTime}.${String(nanos).padStart(9, '0')}Z`;
}

function moneyToJson(money: Money): JsonObject {
  const out: JsonObject = {};
  putString(out, 'currency', money.currency);
  if (money.minorUnits !== 0n) out.minorUnits = money.minorUnits.toString();
  noteUnknown(out, money);
  return out;
}

/** The fields the three kinds share; the enum's 0 (UNSPECIFIED) means unset, unknown numbers stay numbers. */
function kindToJson(kind: PaymentCompleted | PaymentFailed | PaymentRefunded): JsonObject {
  const out: JsonObject = {};
  putString(out, 'paymentId', kind.paymentId);
  if (kind.$typeName === 'payments.v1.PaymentRefunded') putString(out, 'refundId', kind.refundId);
  else putString(out, 'customerId', kind.customerId);
  putString(out, 'storeId', kind.storeId);
  if (kind.method !== 0) out.method = PAYMENT_METHOD_NAMES[kind.method] ?? kind.method;
  if (kind.amount !== undefined) out.amount = moneyToJson(kind.amount);
  if (kind.$typeName === 'payments.v1.PaymentFailed') putString(out, 'reason', kind.reason);
  noteUnknown(out, kind);
  return out;
}

function eventToJson(event: PaymentEvent): JsonObject {
  const out: JsonObject = {};
  putString(out, 'eventId', event.eventId);
  putString(out, 'merchantId', event.merchantId);
  if (event.occurredAt !== undefined) {
    out.occurredAt = timestampToJson(event.occurredAt);
    noteUnknown(out, event.occurredAt, 'occurredAt');
  }
  if (event.kind.case !== undefined) out[event.kind.case] = kindToJson(event.kind.value);
  noteUnknown(out, event);
  return out;
}

/**
 * A binary-decoded request (`fromBinary(RecordPaymentEventsRequestSchema, bytes)`) in the proto3
 * JSON shape that validateRecordRequest reads, so both encodings pass the same checks and give
 * the same records and the same errors.
 */
export function requestFromProto(message: RecordPaymentEventsRequest): unknown {
  const out: JsonObject = { events: message.events.map(eventToJson) };
  noteUnknown(out, message);
  return out;
}
