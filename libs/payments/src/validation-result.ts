import type { PaymentEventRecord } from './payment-event.record.js';

/** One invalid field. `path` is in the request's camelCase JSON terms, e.g. `events[3].paymentCompleted.amount.minorUnits`; '' is the request itself. */
export interface FieldError {
  path: string;
  message: string;
}

export type ValidationResult =
  | { ok: true; events: PaymentEventRecord[] }
  | { ok: false; errors: FieldError[] };

/**
 * One line for a Connect `invalid_argument` message, naming every error, so a producer fixes a
 * batch in one round trip. No cap is needed: a request over 1000 events gets a single error, and
 * each of at most 1000 events has a fixed set of objects and fields with at most one error each,
 * plus at most MAX_UNKNOWN_FIELDS_NAMED unknown fields per object (names cut to
 * MAX_UNKNOWN_NAME_CHARS) and one error counting the rest: the message is bounded by the event
 * count, not by the size of the body.
 */
export function formatValidationErrors(errors: readonly FieldError[]): string {
  const listed = errors.map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`));
  return `${errors.length} invalid field${errors.length === 1 ? '' : 's'}: ${listed.join('; ')}`;
}
