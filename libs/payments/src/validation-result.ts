import type { PaymentEventRecord } from './payment-event.record.js';

/** One invalid field. `path` is in the request's camelCase JSON terms, e.g. `events[3].paymentCompleted.amount.minorUnits`; '' is the request itself. */
export interface FieldError {
  path: string;
  message: string;
}

export type ValidationResult =
  | { ok: true; events: PaymentEventRecord[] }
  | { ok: false; errors: FieldError[] };

/** One line for a Connect `invalid_argument` message; long lists are cut so the error stays readable. */
export function formatValidationErrors(errors: readonly FieldError[], limit = 20): string {
  const shown = errors.slice(0, limit).map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`));
  const rest = errors.length - shown.length;
  if (rest > 0) shown.push(`… and ${rest} more`);
  return `${errors.length} invalid field${errors.length === 1 ? '' : 's'}: ${shown.join('; ')}`;
}
