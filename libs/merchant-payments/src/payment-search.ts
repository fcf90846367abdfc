import { createHash } from 'node:crypto';
import { assertSchemaName, type SqlClient } from '@app/projections';

export const PAYMENT_STATUSES = ['COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'FAILED', 'REFUND_ONLY'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export interface PaymentFilter {
  paymentId?: string;
  customerId?: string;
  storeId?: string;
  method?: string;
  status?: PaymentStatus;
  /** Amount range in minor units, inclusive, of the payment's amount. */
  minAmount?: bigint;
  maxAmount?: bigint;
  /** Time range [from, to) of the payment's time (its completion, else failure, else first refund). */
  from?: Date;
  to?: Date;
}

export interface PaymentPageRequest {
  merchantId: string;
  filter: PaymentFilter;
  /** Page size, 1..MAX_PAYMENT_PAGE_SIZE. */
  first: number;
  /** endCursor of the page before. */
  after?: string;
}

export const DEFAULT_PAYMENT_PAGE_SIZE = 20;
export const MAX_PAYMENT_PAGE_SIZE = 100;

export interface PaymentSummary {
  merchantId: string;
  paymentId: string;
  status: PaymentStatus;
  occurredAt: string;
  currency: string;
  amountMinor: string | null;
  refundedMinor: string;
  refundCount: number;
  overRefunded: boolean;
  completedCount: number;
  failedCount: number;
  storeId: string;
  method: string;
  customerId: string | null;
  failedAt: string | null;
  failureReason: string | null;
  firstRefundAt: string | null;
  lastRefundAt: string | null;
  partition: number;
  positions: number[];
}

export interface PaymentPage {
  payments: PaymentSummary[];
  hasNextPage: boolean;
  /** Opaque; pass as `after` for the next page. Null on an empty page. */
  endCursor: string | null;
}

/** A question the search refuses: a bad value, or a filter no index serves. Nothing was read. */
export class PaymentSearchError extends Error {
  override readonly name = 'PaymentSearchError';
}

/**
 * The filter combinations the search serves, each by an index read newest
 * first (payment-tables.ts), every one with an optional time range:
 * - paymentId, with any other filter checked on its one row;
 * - customerId, with storeId, method, status and an amount range checked on
 *   the customer's payments (a customer's payments are few beside a merchant's);
 * - one of storeId, method or status;
 * - nothing else (the merchant's payments by time).
 * Anything else (two of storeId, method, status; an amount range without a
 * customer or payment id) would read the merchant's payments one by one
 * until the page fills: refused, with this list.
 */
export const SUPPORTED_FILTERS =
  'paymentId (with any other filter); customerId (with storeId, method, status, minAmount, maxAmount); ' +
  'one of storeId, method or status; or none; each with an optional from/to time range';

type Plan = { index: 'key' | 'by_customer' | 'by_store' | 'by_method' | 'by_status' | 'by_time' };

/**
 * Each index's order, newest first. The query orders by every column of its
 * index (the equal ones change nothing), so that the only plan without a sort
 * is that index read backwards, whatever a generic plan (the query API's
 * connections use them) guesses about how many rows a value has.
 */
const ORDER: Record<Plan['index'], string> = {
  key: 'occurred_at desc, payment_id desc',
  by_customer: 'merchant_id desc, customer_id desc, occurred_at desc, payment_id desc',
  by_store: 'merchant_id desc, store_id desc, occurred_at desc, payment_id desc',
  by_method: 'merchant_id desc, method desc, occurred_at desc, payment_id desc',
  by_status: 'merchant_id desc, status desc, occurred_at desc, payment_id desc',
  by_time: 'merchant_id desc, occurred_at desc, payment_id desc',
};

/** The index that serves `filter`; refuses a filter none serves. */
function indexFor(filter: PaymentFilter): Plan['index'] {
  if (filter.paymentId !== undefined) return 'key';
  if (filter.customerId !== undefined) return 'by_customer';
  const keys = (['storeId', 'method', 'status'] as const).filter((k) => filter[k] !== undefined);
  const amount = filter.minAmount !== undefined || filter.maxAmount !== undefined;
  if (keys.length > 1 || amount) {
    const what = amount ? 'an amount range needs customerId or paymentId' : `${keys.join(' and ')} together need customerId or paymentId`;
    throw new PaymentSearchError(`no index serves this filter (${what}); supported: ${SUPPORTED_FILTERS}`);
  }
  if (keys[0] === 'storeId') return 'by_store';
  if (keys[0] === 'method') return 'by_method';
  if (keys[0] === 'status') return 'by_status';
  return 'by_time';
}

const TEXT_LIMIT = 128;

/** Refuses values the store could never hold, before any reading. */
function checkFilter(filter: PaymentFilter): void {
  for (const k of ['paymentId', 'customerId', 'storeId', 'method'] as const) {
    const v = filter[k];
    if (v !== undefined && (v.length === 0 || v.length > TEXT_LIMIT)) throw new PaymentSearchError(`${k} must have 1 to ${TEXT_LIMIT} characters`);
  }
  if (filter.status !== undefined && !PAYMENT_STATUSES.includes(filter.status)) {
    throw new PaymentSearchError(`status must be one of ${PAYMENT_STATUSES.join(', ')}`);
  }
  for (const k of ['minAmount', 'maxAmount'] as const) {
    const v = filter[k];
    if (v !== undefined && (v < 0n || v > 9_223_372_036_854_775_807n)) throw new PaymentSearchError(`${k} must be an integer of minor units from 0 to 2^63 - 1`);
  }
  if (filter.minAmount !== undefined && filter.maxAmount !== undefined && filter.minAmount > filter.maxAmount) {
    throw new PaymentSearchError('minAmount must not exceed maxAmount');
  }
  for (const k of ['from', 'to'] as const) {
    const v = filter[k];
    if (v !== undefined && Number.isNaN(v.getTime())) throw new PaymentSearchError(`${k} must be a valid time`);
  }
  if (filter.from && filter.to && filter.from >= filter.to) throw new PaymentSearchError('from must be before to');
}

/** What a cursor belongs to: a cursor of one filter is refused by another (it would skip or repeat payments). */
function filterDigest(merchantId: string, filter: PaymentFilter): string {
  const canonical = JSON.stringify([merchantId, filter.paymentId, filter.customerId, filter.storeId, filter.method, filter.status,
    filter.minAmount?.toString(), filter.maxAmount?.toString(), filter.from?.toISOString(), filter.to?.toISOString()]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 12);
}

interface Cursor {
  occurredAt: string;
  paymentId: string;
}

export function encodeCursor(cursor: Cursor, digest: string): string {
  return Buffer.from(JSON.stringify([cursor.occurredAt, cursor.paymentId, digest])).toString('base64url');
}

function decodeCursor(raw: string, digest: string): Cursor {
  let parsed: unknown;
  try {
    if (raw.length > 512) throw new Error('too long');
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new PaymentSearchError('after is not a cursor this API gave');
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string'
    || Number.isNaN(Date.parse(parsed[0])) || parsed[1].length > TEXT_LIMIT) {
    throw new PaymentSearchError('after is not a cursor this API gave');
  }
  if (parsed[2] !== digest) throw new PaymentSearchError('after is a cursor of another question: page on with the filter it was given for');
  return { occurredAt: parsed[0], paymentId: parsed[1] };
}

// The time as text under another name: ORDER BY occurred_at would otherwise sort by this output
// column (text, no index: 380 ms for a customer of 165,000 payments) instead of the table's.
const SELECT = `merchant_id, payment_id, status, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as occurred_text,
  currency, amount_minor::text, refunded_minor::text, refund_count, over_refunded, completed_count, failed_count, store_id, method, customer_id,
  failed_at, failure_reason, first_refund_at, last_refund_at, partition, positions`;

interface Row {
  merchant_id: string; payment_id: string; status: PaymentStatus; occurred_text: string; currency: string; amount_minor: string | null;
  refunded_minor: string; refund_count: number; over_refunded: boolean; completed_count: number; failed_count: number; store_id: string;
  method: string; customer_id: string | null; failed_at: Date | null; failure_reason: string | null; first_refund_at: Date | null;
  last_refund_at: Date | null; partition: number; positions: Array<string | number>;
}

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());

function summaryOf(r: Row): PaymentSummary {
  return {
    merchantId: r.merchant_id, paymentId: r.payment_id, status: r.status, occurredAt: r.occurred_text, currency: r.currency,
    amountMinor: r.amount_minor, refundedMinor: r.refunded_minor, refundCount: r.refund_count, overRefunded: r.over_refunded,
    completedCount: r.completed_count, failedCount: r.failed_count, storeId: r.store_id, method: r.method, customerId: r.customer_id,
    failedAt: iso(r.failed_at), failureReason: r.failure_reason, firstRefundAt: iso(r.first_refund_at), lastRefundAt: iso(r.last_refund_at),
    partition: Number(r.partition), positions: r.positions.map(Number),
  };
}

/**
 * A page of a merchant's payments, newest first (by time, then payment id,
 * descending), after a cursor: keyset pagination, so payments recorded
 * meanwhile never shift a page (a newer one appears only on a new first page).
 * Reads one index range of `schema`'s payments (indexFor); refuses filters none serves.
 */
export async function searchPayments(client: SqlClient, schema: string, request: PaymentPageRequest): Promise<PaymentPage> {
  const s = assertSchemaName(schema);
  const { filter } = request;
  if (!Number.isInteger(request.first) || request.first < 1 || request.first > MAX_PAYMENT_PAGE_SIZE) {
    throw new PaymentSearchError(`first must be an integer from 1 to ${MAX_PAYMENT_PAGE_SIZE}`);
  }
  checkFilter(filter);
  const index = indexFor(filter);
  const digest = filterDigest(request.merchantId, filter);
  const cursor = request.after === undefined ? undefined : decodeCursor(request.after, digest);
  const values: unknown[] = [request.merchantId];
  const where = ['merchant_id = $1'];
  const add = (sql: (p: string) => string, value: unknown) => {
    values.push(value);
    where.push(sql(`$${values.length}`));
  };
  if (filter.paymentId !== undefined) add((p) => `payment_id = ${p}`, filter.paymentId);
  if (filter.customerId !== undefined) add((p) => `customer_id = ${p}`, filter.customerId);
  if (filter.storeId !== undefined) add((p) => `store_id = ${p}`, filter.storeId);
  if (filter.method !== undefined) add((p) => `method = ${p}`, filter.method);
  if (filter.status !== undefined) add((p) => `status = ${p}`, filter.status);
  if (filter.minAmount !== undefined) add((p) => `amount_minor >= ${p}::bigint`, filter.minAmount.toString());
  if (filter.maxAmount !== undefined) add((p) => `amount_minor <= ${p}::bigint`, filter.maxAmount.toString());
  if (filter.from !== undefined) add((p) => `occurred_at >= ${p}::timestamptz`, filter.from.toISOString());
  if (filter.to !== undefined) add((p) => `occurred_at < ${p}::timestamptz`, filter.to.toISOString());
  if (cursor) {
    values.push(cursor.occurredAt, cursor.paymentId);
    where.push(`(occurred_at, payment_id) < ($${values.length - 1}::timestamptz, $${values.length}::text)`);
  }
  values.push(request.first + 1);
  const { rows } = await client.query<Row>(
    `select ${SELECT} from ${s}.payments where ${where.join(' and ')}
     order by ${ORDER[index]} limit $${values.length}`,
    values,
  );
  const page = rows.slice(0, request.first).map(summaryOf);
  const last = page[page.length - 1];
  return {
    payments: page,
    hasNextPage: rows.length > request.first,
    endCursor: last ? encodeCursor({ occurredAt: last.occurredAt, paymentId: last.paymentId }, digest) : null,
  };
}

/** One payment by id, or undefined. */
export async function findPayment(client: SqlClient, schema: string, merchantId: string, paymentId: string): Promise<PaymentSummary | undefined> {
  checkFilter({ paymentId });
  const { rows } = await client.query<Row>(
    `select ${SELECT} from ${assertSchemaName(schema)}.payments where merchant_id = $1 and payment_id = $2`, [merchantId, paymentId],
  );
  return rows[0] ? summaryOf(rows[0]) : undefined;
}

export interface PaymentHistoryEvent {
  position: number;
  eventId: string;
  type: string;
  occurredAt: string;
  recordedAt: string;
  /** The event as the store holds it (jsonb as text: canonical proto3 JSON, keys in jsonb's order). */
  payloadJson: string;
}

/**
 * The payment's events, read from the event store by their positions through
 * event_store.merchant_events_at, which returns only the merchant's own
 * events (the query API's role reads nothing else of the store). Events
 * moved to the cold archive are not in the hot store: `missing` counts them.
 */
export async function readPaymentHistory(client: SqlClient, payment: PaymentSummary): Promise<{ events: PaymentHistoryEvent[]; missing: number }> {
  const { rows } = await client.query<{ position: string; event_id: string; event_type: string; occurred_at: Date; recorded_at: Date; payload: string }>(
    `select * from event_store.merchant_events_at($1, $2::smallint, $3::bigint[])`,
    [payment.merchantId, payment.partition, payment.positions],
  );
  const events = rows.map((r) => ({
    position: Number(r.position), eventId: r.event_id, type: r.event_type, occurredAt: new Date(r.occurred_at).toISOString(),
    recordedAt: new Date(r.recorded_at).toISOString(), payloadJson: r.payload,
  }));
  return { events, missing: payment.positions.length - events.length };
}
