import { shortMethod, type PositionedEvent } from '@app/projections';

/**
 * Positions kept per payment: its first MAX_POSITIONS events are its history;
 * the counts go on. A real payment has a handful of events; a producer that
 * sends a million refunds for one must not make its row grow without end.
 */
export const MAX_POSITIONS = 1000;

/** What one batch adds to one payment's row; merged with the stored row by MERGE_SQL, with each other by mergeRows. */
export interface PaymentRow {
  merchantId: string;
  paymentId: string;
  /** 1 completion, 2 failure, 3 refund: the describing event is the first by position of the lowest rank. */
  sourceRank: 1 | 2 | 3;
  sourcePosition: number;
  occurredAt: string;
  currency: string;
  amountMinor: bigint | null;
  storeId: string;
  method: string;
  customerId: string | null;
  completedCount: number;
  failedCount: number;
  failurePosition: number | null;
  failedAt: string | null;
  failureReason: string | null;
  refundCount: number;
  refundedMinor: bigint;
  firstRefundAt: string | null;
  lastRefundAt: string | null;
  /** Ascending. */
  positions: number[];
}

/** The row one event makes; undefined for an event that names no payment. */
export function rowOf(e: PositionedEvent, options: { failureReason: boolean }): PaymentRow | undefined {
  // One object literal per kind, every field written once: V8 keeps them one fast shape (a spread
  // then overwritten fields cost 25 µs an event, 0.5 s a batch of 20,000, on the event loop).
  const { merchantId, occurredAt } = e.event;
  const position = e.position;
  if (e.event.paymentCompleted) {
    const b = e.event.paymentCompleted;
    return {
      merchantId, paymentId: b.paymentId, sourceRank: 1, sourcePosition: position, occurredAt, currency: b.amount.currency,
      amountMinor: BigInt(b.amount.minorUnits), storeId: b.storeId, method: shortMethod(b.method), customerId: b.customerId,
      completedCount: 1, failedCount: 0, failurePosition: null, failedAt: null, failureReason: null,
      refundCount: 0, refundedMinor: 0n, firstRefundAt: null, lastRefundAt: null, positions: [position],
    };
  }
  if (e.event.paymentFailed) {
    const b = e.event.paymentFailed;
    return {
      merchantId, paymentId: b.paymentId, sourceRank: 2, sourcePosition: position, occurredAt, currency: b.amount.currency,
      amountMinor: BigInt(b.amount.minorUnits), storeId: b.storeId, method: shortMethod(b.method), customerId: b.customerId,
      completedCount: 0, failedCount: 1, failurePosition: position, failedAt: occurredAt, failureReason: options.failureReason ? (b.reason ?? null) : null,
      refundCount: 0, refundedMinor: 0n, firstRefundAt: null, lastRefundAt: null, positions: [position],
    };
  }
  if (e.event.paymentRefunded) {
    const b = e.event.paymentRefunded;
    return {
      merchantId, paymentId: b.paymentId, sourceRank: 3, sourcePosition: position, occurredAt, currency: b.amount.currency,
      amountMinor: null, storeId: b.storeId, method: shortMethod(b.method), customerId: null,
      completedCount: 0, failedCount: 0, failurePosition: null, failedAt: null, failureReason: null,
      refundCount: 1, refundedMinor: BigInt(b.amount.minorUnits), firstRefundAt: occurredAt, lastRefundAt: occurredAt, positions: [position],
    };
  }
  return undefined;
}

const earlier = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : Date.parse(a) <= Date.parse(b) ? a : b);
const later = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : Date.parse(a) >= Date.parse(b) ? a : b);

/** `a` and `b` merged as MERGE_SQL merges a stored row with an incoming one (the same rules, in memory). */
export function mergeRows(a: PaymentRow, b: PaymentRow): PaymentRow {
  const source = b.sourceRank < a.sourceRank || (b.sourceRank === a.sourceRank && b.sourcePosition < a.sourcePosition) ? b : a;
  const failure = a.failurePosition === null || (b.failurePosition !== null && b.failurePosition < a.failurePosition) ? b : a;
  return {
    merchantId: a.merchantId,
    paymentId: a.paymentId,
    sourceRank: source.sourceRank,
    sourcePosition: source.sourcePosition,
    occurredAt: source.occurredAt,
    currency: source.currency,
    amountMinor: source.amountMinor,
    storeId: source.storeId,
    method: source.method,
    customerId: source.customerId,
    completedCount: a.completedCount + b.completedCount,
    failedCount: a.failedCount + b.failedCount,
    failurePosition: failure.failurePosition,
    failedAt: failure.failedAt,
    failureReason: failure.failureReason,
    refundCount: a.refundCount + b.refundCount,
    refundedMinor: a.refundedMinor + b.refundedMinor,
    firstRefundAt: earlier(a.firstRefundAt, b.firstRefundAt),
    lastRefundAt: later(a.lastRefundAt, b.lastRefundAt),
    positions: [...a.positions, ...b.positions].sort((x, y) => x - y).slice(0, MAX_POSITIONS),
  };
}

const SOURCE_COLUMNS = ['source_rank', 'source_position', 'occurred_at', 'currency', 'amount_minor', 'store_id', 'method', 'customer_id'];
const FAILURE_COLUMNS = ['failure_position', 'failed_at', 'failure_reason'];

/** ON CONFLICT's merge of the stored row `t` with the incoming one: mergeRows in SQL. */
export const MERGE_SQL = [
  ...SOURCE_COLUMNS.map((c) => `${c} = case when (excluded.source_rank, excluded.source_position) < (t.source_rank, t.source_position) then excluded.${c} else t.${c} end`),
  ...FAILURE_COLUMNS.map((c) => `${c} = case when t.failure_position is null or excluded.failure_position < t.failure_position then excluded.${c} else t.${c} end`),
  ...['completed_count', 'failed_count', 'refund_count', 'refunded_minor'].map((c) => `${c} = t.${c} + excluded.${c}`),
  'first_refund_at = least(t.first_refund_at, excluded.first_refund_at)',
  'last_refund_at = greatest(t.last_refund_at, excluded.last_refund_at)',
  `positions = array(select p from unnest(t.positions || excluded.positions) as p order by p limit ${MAX_POSITIONS})`,
].join(',\n       ');
