/**
 * The read side's question and answer, independent of GraphQL. The query API
 * maps GraphQL arguments to a MetricsQuery and a MetricsAnswer back to types.
 */
/** Bucket widths, in the query's zone: weeks start on Monday, quarters in January, April, July and October. */
export type Granularity = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';
export type Dimension = 'PAYMENT_METHOD' | 'STORE';
export type Comparison = 'PREVIOUS_PERIOD' | 'PREVIOUS_YEAR';

export interface MetricsQuery {
  merchantId: string;
  /** Inclusive; widened down to the start of its bucket in timeZone. */
  from: Date;
  /** Exclusive; widened up to the end of its bucket in timeZone. */
  to: Date;
  granularity: Granularity;
  /** IANA zone name. */
  timeZone: string;
  groupBy: Dimension[];
  compareTo?: Comparison;
}

/** Amounts are integer minor units of `currency`. */
export interface MetricValues {
  currency: string;
  transactionCount: number;
  grossAmount: bigint;
  refundCount: number;
  refundAmount: bigint;
  netAmount: bigint;
  failedCount: number;
  /** grossAmount / transactionCount rounded half away from zero; null when no transaction. */
  averageTicket: bigint | null;
  uniqueCustomers: number;
  /**
   * False when uniqueCustomers is a sketch's estimate (v3, sets past 256
   * customers), whose relative standard error is SKETCH_STANDARD_ERROR.
   */
  uniqueCustomersExact: boolean;
}

export interface MetricsPoint {
  start: Date;
  values: MetricValues;
  /** The comparison bucket's values (zeros when it had none); null without compareTo. */
  previous: MetricValues | null;
}

export interface MetricsSeries {
  currency: string;
  /** Short method name (CARD, WALLET, QR, BANK_TRANSFER, POINTS) when grouped by PAYMENT_METHOD. */
  paymentMethod: string | null;
  /** When grouped by STORE. */
  storeId: string | null;
  /** Every bucket of the range, in order, zero-filled. */
  points: MetricsPoint[];
}

export interface Freshness {
  /** Every event recorded before this instant is in the answer. */
  asOf: Date;
  lagSeconds: number;
  /** The read-model version that answered. */
  version: number;
  /**
   * Only when a hot standby answered: how far behind the primary it is, in
   * seconds since the last transaction it replayed committed there (asOf is no
   * later than that commit). The primary commits at least every second while
   * a projector runs (its leases), so on a current standby this stays near 1.
   */
  replicaLagSeconds?: number;
}

export interface MetricsAnswer {
  freshness: Freshness;
  /**
   * The merchant's data watermark the answer was read at (merchant_watermarks,
   * in the statement's snapshot): the answer holds while it does not move.
   * Null when the version has none for the merchant.
   */
  watermark?: string | null;
  /** One entry per currency seen in the range. */
  totals: MetricValues[];
  series: MetricsSeries[];
}

/** A query refused before touching the database (bad zone, range too long...). */
export class QueryRejectedError extends Error {
  override readonly name = 'QueryRejectedError';
}
