import { describe, expect, it } from 'vitest';
import { merchantMetricsV1, merchantMetricsV2, type MerchantMetricsLogic } from './merchant-metrics.projection.js';
import { MetricsDelta, paymentKey } from './metrics-delta.js';
import type { PaymentEventJson } from '@app/projections';

const sale = (paymentId: string, occurredAt: string, minorUnits: string): PaymentEventJson => ({
  eventId: `e-${paymentId}`, merchantId: 'm', occurredAt,
  paymentCompleted: { paymentId, customerId: 'c', storeId: 's', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits } },
});
const refund = (paymentId: string, occurredAt: string, minorUnits: string): PaymentEventJson => ({
  eventId: `r-${paymentId}`, merchantId: 'm', occurredAt,
  paymentRefunded: { paymentId, refundId: `r-${paymentId}`, storeId: 's', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits } },
});

function fold(logic: MerchantMetricsLogic, events: PaymentEventJson[], known = new Map<string, number>()) {
  const delta = new MetricsDelta();
  for (const e of events) logic.apply(delta, e, known);
  return [...delta.cells.values()]
    .map((c) => ({ bucket: new Date(c.bucket).toISOString(), completed: c.completedCount, gross: c.grossAmount, refunds: c.refundCount, refunded: c.refundAmount }))
    .sort((a, b) => a.bucket.localeCompare(b.bucket));
}

describe('merchant-metrics logic', () => {
  const monday = '2026-11-16T10:05:00Z';
  const nextMonday = '2026-11-23T09:40:00Z';

  it('v1 puts a refund in the bucket of its own occurredAt', () => {
    expect(fold(merchantMetricsV1, [sale('p1', monday, '1000'), refund('p1', nextMonday, '400')])).toEqual([
      { bucket: '2026-11-16T10:00:00.000Z', completed: 1, gross: 1000n, refunds: 0, refunded: 0n },
      { bucket: '2026-11-23T09:30:00.000Z', completed: 0, gross: 0n, refunds: 1, refunded: 400n },
    ]);
  });

  it('v2 puts it in the bucket of the payment it refunds, seen in the same batch', () => {
    expect(fold(merchantMetricsV2, [sale('p1', monday, '1000'), refund('p1', nextMonday, '400')])).toEqual([
      { bucket: '2026-11-16T10:00:00.000Z', completed: 1, gross: 1000n, refunds: 1, refunded: 400n },
    ]);
  });

  it('v2 uses the bucket of a payment from an earlier batch', () => {
    const known = new Map([[paymentKey('m', 'p9'), Date.parse('2026-11-02T23:45:00Z')]]);
    expect(fold(merchantMetricsV2, [refund('p9', nextMonday, '250')], known)).toEqual([
      { bucket: '2026-11-02T23:45:00.000Z', completed: 0, gross: 0n, refunds: 1, refunded: 250n },
    ]);
  });

  it('v2 keeps a refund of an unknown payment in its own bucket', () => {
    expect(fold(merchantMetricsV2, [refund('p-unknown', nextMonday, '70')])).toEqual([
      { bucket: '2026-11-23T09:30:00.000Z', completed: 0, gross: 0n, refunds: 1, refunded: 70n },
    ]);
  });

  it('v2 records completed payments for later refunds; v1 does not', () => {
    const v2 = new MetricsDelta();
    merchantMetricsV2.apply(v2, sale('p1', monday, '1'), new Map());
    expect([...v2.payments.values()]).toEqual([{ merchantId: 'm', paymentId: 'p1', bucket: Date.parse('2026-11-16T10:00:00Z') }]);
    const v1 = new MetricsDelta();
    merchantMetricsV1.apply(v1, sale('p1', monday, '1'), new Map());
    expect(v1.payments.size).toBe(0);
  });
});
