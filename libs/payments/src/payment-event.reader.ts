import { hash } from 'node:crypto';
import type { FieldError } from './validation-result.js';
import type { PaymentEventKind, PaymentEventRecord } from './payment-event.record.js';
import { REPORTED, fieldPath, report, requiredString } from './field-errors.js';
import { MessageShape, readMessageFields } from './message-fields.reader.js';
import { readMerchantId, readUuid } from './text-field.checks.js';
import { canonicalInstant, instantMicros, parseRfc3339 } from './occurred-at.parser.js';
import { readPaymentCompleted, readPaymentFailed, readPaymentRefunded } from './payment-kind.reader.js';
import { canonicalEventJson } from './canonical-json.js';

const EVENT = new MessageShape([
  ['eventId', 'event_id'],
  ['merchantId', 'merchant_id'],
  ['occurredAt', 'occurred_at'],
  ['paymentCompleted', 'payment_completed'],
  ['paymentFailed', 'payment_failed'],
  ['paymentRefunded', 'payment_refunded'],
]);
const COMPLETED = 3;
const FAILED = 4;
const REFUNDED = 5;
const KIND_NAMES = 'paymentCompleted, paymentFailed, paymentRefunded';

/** 2000-01-01T00:00:00Z: anything older is a producer's clock or parsing bug, not a payment. */
const EARLIEST_EPOCH_SECONDS = 946_684_800;

/** Accepted range of occurredAt for one request, fixed once per request. */
export interface OccurredAtWindow {
  /** now + maxFutureSkewMs, in epoch milliseconds. */
  latestMs: number;
  maxFutureSkewMs: number;
}

function describeSkew(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

function readOccurredAt(
  value: unknown,
  errors: FieldError[],
  objectPath: string,
  window: OccurredAtWindow,
): { occurredAt: string; occurredAtMicros: bigint } | undefined {
  const text = requiredString(value, errors, objectPath, 'occurredAt');
  if (text === undefined) return undefined;
  const instant = parseRfc3339(text);
  if (instant === 'format') {
    report(errors, objectPath, 'occurredAt', 'must be an RFC 3339 timestamp such as 2026-11-20T03:15:00Z or 2026-11-20T12:15:00.250+09:00');
    return undefined;
  }
  if (instant === 'calendar') {
    report(errors, objectPath, 'occurredAt', 'is not a real calendar date and time');
    return undefined;
  }
  const ms = instant.epochSeconds * 1000 + Math.floor(instant.nanos / 1e6);
  if (ms > window.latestMs || (ms === window.latestMs && instant.nanos % 1e6 !== 0)) {
    report(errors, objectPath, 'occurredAt', `is in the future by more than the allowed clock skew of ${describeSkew(window.maxFutureSkewMs)}`);
    return undefined;
  }
  if (instant.epochSeconds < EARLIEST_EPOCH_SECONDS) {
    report(errors, objectPath, 'occurredAt', 'must not be before 2000-01-01T00:00:00Z');
    return undefined;
  }
  return { occurredAt: canonicalInstant(text, instant), occurredAtMicros: instantMicros(instant) };
}


/** Exactly one kind must be set; each one given is still checked, so all its errors are reported at once. */
function readKind(fields: unknown[], errors: FieldError[], path: string): PaymentEventKind | undefined {
  const completed = fields[COMPLETED];
  const failed = fields[FAILED];
  const refunded = fields[REFUNDED];
  const given = (completed !== undefined ? 1 : 0) + (failed !== undefined ? 1 : 0) + (refunded !== undefined ? 1 : 0);
  if (given === 0) {
    report(errors, path, undefined, `must have exactly one of ${KIND_NAMES}`);
    return undefined;
  }
  if (given > 1) {
    const names = [COMPLETED, FAILED, REFUNDED].filter((slot) => fields[slot] !== undefined).map((slot) => EVENT.jsonNames[slot]);
    report(errors, path, undefined, `must have exactly one of ${KIND_NAMES}, but has ${names.join(' and ')}`);
  }
  let kind: PaymentEventKind | undefined;
  if (completed !== undefined && completed !== REPORTED) {
    const body = readPaymentCompleted(completed, errors, fieldPath(path, 'paymentCompleted'));
    if (body !== undefined) kind = { type: 'payment_completed', body };
  }
  if (failed !== undefined && failed !== REPORTED) {
    const body = readPaymentFailed(failed, errors, fieldPath(path, 'paymentFailed'));
    if (body !== undefined) kind = { type: 'payment_failed', body };
  }
  if (refunded !== undefined && refunded !== REPORTED) {
    const body = readPaymentRefunded(refunded, errors, fieldPath(path, 'paymentRefunded'));
    if (body !== undefined) kind = { type: 'payment_refunded', body };
  }
  return given === 1 ? kind : undefined;
}

/** Validates and normalises one event; reports every invalid field under `path` (e.g. `events[3]`). */
export function readPaymentEvent(
  raw: unknown,
  errors: FieldError[],
  path: string,
  window: OccurredAtWindow,
): PaymentEventRecord | undefined {
  const fields = readMessageFields(raw, EVENT, errors, path);
  if (fields === undefined) return undefined;
  const eventId = readUuid(fields[0], errors, path, 'eventId');
  const merchantId = readMerchantId(fields[1], errors, path, 'merchantId');
  const time = readOccurredAt(fields[2], errors, path, window);
  const kind = readKind(fields, errors, path);
  if (eventId === undefined || merchantId === undefined || time === undefined || kind === undefined) return undefined;
  const canonicalJson = canonicalEventJson(eventId, merchantId, time.occurredAt, kind);
  // Written out rather than spreading `kind`: the transpiled spread helper was the costliest line here.
  return {
    eventId,
    merchantId,
    occurredAt: time.occurredAt,
    occurredAtMicros: time.occurredAtMicros,
    type: kind.type,
    body: kind.body,
    canonicalJson,
    // Hashing to a 'binary' (latin1) string and copying that into a (pooled) Buffer costs half of asking for a Buffer directly.
    bodyHash: Buffer.from(hash('sha256', canonicalJson, 'binary'), 'binary'),
  } as PaymentEventRecord;
}
