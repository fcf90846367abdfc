import type { FieldError, ValidationResult } from './validation-result.js';
import type { PaymentEventRecord } from './payment-event.record.js';
import { report } from './field-errors.js';
import { MessageShape, isJsonObject, readMessageFields } from './message-fields.reader.js';
import { readPaymentEvent, type OccurredAtWindow } from './payment-event.reader.js';

export const MAX_EVENTS_PER_REQUEST = 1000;

export interface RecordRequestOptions {
  now: Date;
  /** How far past `now` an occurredAt may lie, for producers whose clocks run fast. */
  maxFutureSkewMs: number;
}

const REQUEST = new MessageShape([['events', 'events']]);

/**
 * Validates a RecordPaymentEvents request in its proto3 JSON form (`JSON.parse` of the body, or
 * `requestFromProto` of a binary one) and normalises every event. Reports every invalid field
 * of every event, at most one error per field, so that a producer can fix a batch in one go.
 */
export function validateRecordRequest(body: unknown, options: RecordRequestOptions): ValidationResult {
  const errors: FieldError[] = [];
  if (!isJsonObject(body)) {
    report(errors, '', undefined, 'the request body must be a JSON object');
    return { ok: false, errors };
  }
  const fields = readMessageFields(body, REQUEST, errors, '')!;
  const events = fields[0] ?? [];
  if (!Array.isArray(events)) {
    report(errors, '', 'events', 'must be an array');
    return { ok: false, errors };
  }
  if (events.length === 0 || events.length > MAX_EVENTS_PER_REQUEST) {
    const got = events.length === 0 ? '' : `, got ${events.length}`;
    report(errors, '', 'events', `must contain 1 to ${MAX_EVENTS_PER_REQUEST} events${got}`);
    return { ok: false, errors };
  }

  const window: OccurredAtWindow = {
    latestMs: options.now.getTime() + options.maxFutureSkewMs,
    maxFutureSkewMs: options.maxFutureSkewMs,
  };
  const records: PaymentEventRecord[] = [];
  const recordAt: (PaymentEventRecord | undefined)[] = new Array(events.length);
  const firstIndexOf = new Map<string, number>();
  for (let i = 0; i < events.length; i++) {
    const path = `events[${i}]`;
    const record = readPaymentEvent(events[i], errors, path, window);
    if (record === undefined) continue;
    const first = firstIndexOf.get(record.eventId);
    if (first === undefined) {
      firstIndexOf.set(record.eventId, i);
    } else if (recordAt[first]!.canonicalJson !== record.canonicalJson) {
      // The same body twice is a duplicate the store counts; a different one is a conflict.
      report(errors, path, 'eventId', `duplicates events[${first}] with a different body`);
      continue;
    }
    recordAt[i] = record;
    records.push(record);
  }
  return errors.length === 0 ? { ok: true, events: records } : { ok: false, errors };
}
