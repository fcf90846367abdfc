import type { MetricsDelta } from './metrics-delta.js';
import { shortMethod, type PaymentEventJson } from './payment-event.json.js';

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
  apply(delta: MetricsDelta, event: PaymentEventJson): void;
}

/** Version 1: every event counts in the bucket of its own occurredAt. */
export const merchantMetricsV1: MerchantMetricsLogic = {
  version: 1,
  description: 'completed, failed and refunded payments, each in the bucket of its own occurredAt',
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

const versions = new Map<number, MerchantMetricsLogic>([[1, merchantMetricsV1]]);

export function merchantMetricsLogic(version: number): MerchantMetricsLogic {
  const logic = versions.get(version);
  if (!logic) throw new Error(`merchant-metrics has no version ${version} (known: ${[...versions.keys()].join(', ')})`);
  return logic;
}
