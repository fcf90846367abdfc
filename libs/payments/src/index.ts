export type {
  Money,
  PaymentCompletedBody,
  PaymentEventKind,
  PaymentEventRecord,
  PaymentEventType,
  PaymentFailedBody,
  PaymentMethodName,
  PaymentRefundedBody,
} from './payment-event.record.js';
export type { FieldError, ValidationResult } from './validation-result.js';
export { formatValidationErrors } from './validation-result.js';
export { MAX_EVENTS_PER_REQUEST, validateRecordRequest, type RecordRequestOptions } from './record-request.validator.js';
export { requestFromProto } from './request-from-proto.mapper.js';
export { canonicalEventJson } from './canonical-json.js';
export { ACTIVE_CURRENCIES, isActiveCurrency } from './currencies.js';
export { isMerchantId } from './text-field.checks.js';
