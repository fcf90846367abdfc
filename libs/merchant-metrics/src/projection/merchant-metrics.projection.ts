import { schemaNameFor, shortMethod, type PaymentEventJson } from '@app/projections';
import type { ReadModelLayout } from '../schema/read-model-tables.js';
import { paymentKey, type MetricsDelta } from './metrics-delta.js';

export const PROJECTION_NAME = 'merchant-metrics';

export const BUCKET_MS = 15 * 60 * 1000;

/** Start of the 15-minute UTC bucket holding an RFC 3339 instant, epoch ms. */
export function bucketOf(occurredAt: string): number {
  const ms = Date.parse(occurredAt);
  if (Number.isNaN(ms)) throw new Error(`unreadable occurredAt: ${occurredAt}`);
  return ms - (((ms % BUCKET_MS) + BUCKET_MS) % BUCKET_MS);
}

/**
 * One version of the merchant-metrics logic: a pure fold of an event into a
 * delta. Applying it is commutative (sums and set inserts), so batches may be
 * aggregated in any grouping; exactly-once comes from the checkpoint, not from here.
 */
export interface MerchantMetricsLogic {
  readonly version: number;
  /** What this version changed, for `projections list` and the docs. */
  readonly description: string;
  /** The tables it keeps (schema/read-model-tables.ts). */
  readonly layout: ReadModelLayout;
  /**
   * True when refunds need their payment's bucket: completed payments are
   * then recorded in the version's `payments` table, and before a batch is
   * applied the buckets of the payments its refunds name are read from there.
   */
  readonly paymentIndex: boolean;
  /**
   * The same fold described for set-based SQL, which a rebuild's first pass
   * over a partition runs inside PostgreSQL (rebuild/bulk-fold.ts);
   * bulk-fold.int-spec.ts proves it equal to `apply` for every version. A
   * version whose change this cannot describe extends it and the SQL.
   * - `refundBucket`: `own`, a refund in the bucket of its own occurredAt;
   *   `payment`, in the bucket of the first completion of its payment stored
   *   before it, else its own.
   */
  readonly bulkFold: { readonly refundBucket: 'own' | 'payment' };
  /** `known`: buckets of earlier payments, by paymentKey(merchantId, paymentId). */
  apply(delta: MetricsDelta, event: PaymentEventJson, known: ReadonlyMap<string, number>): void;
}

/** Version 1: every event counts in the bucket of its own occurredAt. */
export const merchantMetricsV1: MerchantMetricsLogic = {
  version: 1,
  description: 'completed, failed and refunded payments, each in the bucket of its own occurredAt',
  layout: 'customer-sets',
  paymentIndex: false,
  bulkFold: { refundBucket: 'own' },
  apply(delta, event) {
    const bucket = bucketOf(event.occurredAt);
    const merchantId = event.merchantId;
    if (event.paymentCompleted) {
      const body = event.paymentCompleted;
      const key = { merchantId, bucket, currency: body.amount.currency, paymentMethod: shortMethod(body.method), storeId: body.storeId };
      const cell = delta.cell(key);
      cell.completedCount += 1;
      cell.grossAmount += BigInt(body.amount.minorUnits);
      delta.addCustomer(key, body.customerId);
    } else if (event.paymentFailed) {
      const body = event.paymentFailed;
      delta.cell({ merchantId, bucket, currency: body.amount.currency, paymentMethod: shortMethod(body.method), storeId: body.storeId })
        .failedCount += 1;
    } else if (event.paymentRefunded) {
      const body = event.paymentRefunded;
      const cell = delta.cell({ merchantId, bucket, currency: body.amount.currency, paymentMethod: shortMethod(body.method), storeId: body.storeId });
      cell.refundCount += 1;
      cell.refundAmount += BigInt(body.amount.minorUnits);
    }
  },
};

/**
 * Version 2 fixes how refunds land: v1 subtracts a refund in the bucket of
 * the refund's own occurredAt, so a sale refunded a week later lowers that
 * later day's net volume (and can make a quiet day negative). Merchants read
 * "net sales of Monday" as Monday's sales minus what was refunded of them; v2
 * puts each refund in the bucket of the payment it refunds. A refund whose
 * payment the store has not seen (sent before it, or from before the data)
 * stays in its own bucket, as in v1.
 */
export const merchantMetricsV2: MerchantMetricsLogic = {
  version: 2,
  description: "refunds count in the bucket of the payment they refund (v1: the refund's own occurredAt)",
  layout: 'customer-sets',
  paymentIndex: true,
  bulkFold: { refundBucket: 'payment' },
  apply(delta, event, known) {
    if (event.paymentRefunded) {
      const body = event.paymentRefunded;
      const key = paymentKey(event.merchantId, body.paymentId);
      // The first completion stored before the refund: earlier batches (known), then this one.
      const bucket = known.get(key) ?? delta.payments.get(key)?.bucket ?? bucketOf(event.occurredAt);
      const cell = delta.cell({ merchantId: event.merchantId, bucket, currency: body.amount.currency, paymentMethod: shortMethod(body.method), storeId: body.storeId });
      cell.refundCount += 1;
      cell.refundAmount += BigInt(body.amount.minorUnits);
      return;
    }
    merchantMetricsV1.apply(delta, event, known);
    if (event.paymentCompleted) delta.recordPayment(event.merchantId, event.paymentCompleted.paymentId, bucketOf(event.occurredAt));
  },
};

/**
 * Version 3 counts exactly as v2 does; what changes is the read model's grain
 * (the `sketches` layout): unique customers come from mergeable sketches kept
 * in every row, and rollups without dimensions sit beside the dimensioned
 * ones, so an answer costs what its buckets and series cost, not what the
 * events behind them cost (docs/decisions/0008-customer-sketches.md).
 */
export const merchantMetricsV3: MerchantMetricsLogic = {
  ...merchantMetricsV2,
  version: 3,
  description: "v2's rules; unique customers from sketches in hourly and daily rollups, with and without dimensions",
  layout: 'sketches',
};

const versions = new Map<number, MerchantMetricsLogic>([[1, merchantMetricsV1], [2, merchantMetricsV2], [3, merchantMetricsV3]]);

/** Every version this code can project. */
export function knownMerchantMetricsVersions(): number[] {
  return [...versions.keys()];
}

export function merchantMetricsLogic(version: number): MerchantMetricsLogic {
  const logic = versions.get(version);
  if (!logic) throw new Error(`merchant-metrics has no version ${version} (known: ${[...versions.keys()].join(', ')})`);
  return logic;
}

/**
 * The tables a version keeps; for a version this code does not know (a
 * test's build of another version's logic), the layout every version had before v3.
 */
export function layoutOf(version: number): ReadModelLayout {
  return versions.get(version)?.layout ?? 'customer-sets';
}

/** The layout of the merchant-metrics version whose schema is `schemaName` (named by schemaNameFor). */
export function layoutOfSchema(schemaName: string): ReadModelLayout {
  const version = knownMerchantMetricsVersions().find((v) => schemaNameFor(PROJECTION_NAME, v) === schemaName);
  return version === undefined ? 'customer-sets' : layoutOf(version);
}
