import { PaymentSearchError, type PaymentFilter, type PaymentSummary } from '@app/merchant-payments';
import type { PaymentWithHistory } from './payments.service.js';

/** Amounts arrive as strings of integer minor units (GraphQL's Int is 32-bit). */
export function amountOf(name: string, raw: string | undefined | null): bigint | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!/^[0-9]{1,19}$/.test(raw)) throw new PaymentSearchError(`${name} must be an integer of minor units, like "1200"; got "${raw.slice(0, 40)}"`);
  return BigInt(raw);
}

/** The API's filter (GraphQL input or REST parameters, amounts as strings) as the search's. */
export function toPaymentFilter(input: {
  paymentId?: string | null; customerId?: string | null; storeId?: string | null; method?: string | null; status?: string | null;
  minAmount?: string | null; maxAmount?: string | null; from?: Date | null; to?: Date | null;
}): PaymentFilter {
  const filter: PaymentFilter = {};
  if (input.paymentId != null) filter.paymentId = input.paymentId;
  if (input.customerId != null) filter.customerId = input.customerId;
  if (input.storeId != null) filter.storeId = input.storeId;
  if (input.method != null) filter.method = input.method;
  if (input.status != null) filter.status = input.status as PaymentFilter['status'];
  const min = amountOf('minAmount', input.minAmount);
  const max = amountOf('maxAmount', input.maxAmount);
  if (min !== undefined) filter.minAmount = min;
  if (max !== undefined) filter.maxAmount = max;
  if (input.from != null) filter.from = input.from;
  if (input.to != null) filter.to = input.to;
  return filter;
}

const date = (iso: string | null) => (iso === null ? null : new Date(iso));

export function toPaymentModel(p: PaymentSummary) {
  return {
    paymentId: p.paymentId, status: p.status, occurredAt: new Date(p.occurredAt), currency: p.currency, amount: p.amountMinor,
    refundedAmount: p.refundedMinor, refundCount: p.refundCount, overRefunded: p.overRefunded, completedCount: p.completedCount,
    failedCount: p.failedCount, storeId: p.storeId, method: p.method, customerId: p.customerId, failedAt: date(p.failedAt),
    failureReason: p.failureReason, lastRefundAt: date(p.lastRefundAt), eventCount: p.completedCount + p.failedCount + p.refundCount,
  };
}

export function toPaymentDetail(p: PaymentWithHistory) {
  return {
    ...toPaymentModel(p),
    history: p.history.map((e) => ({
      position: e.position, eventId: e.eventId, type: e.type, occurredAt: new Date(e.occurredAt), recordedAt: new Date(e.recordedAt),
      payloadJson: e.payloadJson,
    })),
    archivedEvents: p.archivedEvents,
  };
}
