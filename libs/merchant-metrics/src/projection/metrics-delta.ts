/** Sums of one (merchant, bucket, currency, method, store) cell. */
export interface MetricCell {
  merchantId: string;
  /** Bucket start, epoch milliseconds (UTC). */
  bucket: number;
  currency: string;
  paymentMethod: string;
  storeId: string;
  completedCount: number;
  grossAmount: bigint;
  refundCount: number;
  refundAmount: bigint;
  failedCount: number;
}

export interface CustomerCell {
  merchantId: string;
  bucket: number;
  currency: string;
  paymentMethod: string;
  storeId: string;
  customerId: string;
}

/** A completed payment's bucket, kept for logic that attributes later events (refunds) to it. */
export interface PaymentCell {
  merchantId: string;
  paymentId: string;
  bucket: number;
}

export type CellKey = Pick<MetricCell, 'merchantId' | 'bucket' | 'currency' | 'paymentMethod' | 'storeId'>;

const SEP = '\u0000';

function keyOf(k: CellKey): string {
  return k.merchantId + SEP + k.bucket + SEP + k.currency + SEP + k.paymentMethod + SEP + k.storeId;
}

export function paymentKey(merchantId: string, paymentId: string): string {
  return merchantId + SEP + paymentId;
}

/**
 * What a batch of events changes in the read model, aggregated in memory so
 * the writer issues one upsert per cell however many events hit it.
 */
export class MetricsDelta {
  readonly cells = new Map<string, MetricCell>();
  readonly customers = new Map<string, CustomerCell>();
  readonly payments = new Map<string, PaymentCell>();

  cell(k: CellKey): MetricCell {
    const key = keyOf(k);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = {
        merchantId: k.merchantId, bucket: k.bucket, currency: k.currency, paymentMethod: k.paymentMethod, storeId: k.storeId,
        completedCount: 0, grossAmount: 0n, refundCount: 0, refundAmount: 0n, failedCount: 0,
      };
      this.cells.set(key, cell);
    }
    return cell;
  }

  addCustomer(k: CellKey, customerId: string): void {
    const key = keyOf(k) + SEP + customerId;
    if (!this.customers.has(key)) {
      this.customers.set(key, { merchantId: k.merchantId, bucket: k.bucket, currency: k.currency, paymentMethod: k.paymentMethod, storeId: k.storeId, customerId });
    }
  }

  recordPayment(merchantId: string, paymentId: string, bucket: number): void {
    const key = paymentKey(merchantId, paymentId);
    if (!this.payments.has(key)) this.payments.set(key, { merchantId, paymentId, bucket });
  }

  get empty(): boolean {
    return this.cells.size === 0 && this.customers.size === 0 && this.payments.size === 0;
  }

  /** The same sums on a coarser UTC grid (the projector-maintained rollups). */
  rollUp(widthMs: number): MetricCell[] {
    const coarse = new MetricsDelta();
    for (const c of this.cells.values()) {
      const target = coarse.cell({ ...c, bucket: c.bucket - (((c.bucket % widthMs) + widthMs) % widthMs) });
      target.completedCount += c.completedCount;
      target.grossAmount += c.grossAmount;
      target.refundCount += c.refundCount;
      target.refundAmount += c.refundAmount;
      target.failedCount += c.failedCount;
    }
    return [...coarse.cells.values()];
  }
}
