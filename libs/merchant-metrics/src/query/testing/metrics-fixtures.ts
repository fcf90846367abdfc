import type { SqlClient } from '@app/projections';
import type { MetricsAnswer, MetricValues } from '../metrics-query.js';

/** One 15-minute row of the read model, and the customers who paid in it. */
export interface Cell {
  merchant: string;
  bucket: string;
  currency?: string;
  method?: string;
  store?: string;
  completed?: number;
  gross?: number;
  refunds?: number;
  refunded?: number;
  failed?: number;
  customers?: string[];
}

/** Inserts 15-minute rows and customer sets, then the hourly and daily rollups the projector would maintain. */
export async function insertCells(client: SqlClient, schema: string, cells: Cell[]): Promise<void> {
  for (const c of cells) {
    const key = [c.merchant, c.bucket, c.currency ?? 'USD', c.method ?? 'CARD', c.store ?? ''];
    await client.query(
      `insert into ${schema}.metrics_15m (merchant_id, bucket, currency, payment_method, store_id,
         completed_count, gross_amount, refund_count, refund_amount, failed_count)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [...key, c.completed ?? 0, c.gross ?? 0, c.refunds ?? 0, c.refunded ?? 0, c.failed ?? 0],
    );
    for (const customer of c.customers ?? []) {
      await client.query(
        `insert into ${schema}.customers_15m (merchant_id, bucket, currency, payment_method, store_id, customer_id)
         values ($1, $2, $3, $4, $5, $6)`,
        [...key, customer],
      );
    }
  }
  for (const [table, unit] of [['metrics_hourly', 'hour'], ['metrics_daily', 'day']]) {
    await client.query(`truncate ${schema}.${table}`);
    await client.query(
      `insert into ${schema}.${table}
       select merchant_id, date_trunc('${unit}', bucket, 'UTC'), currency, payment_method, store_id,
              sum(completed_count), sum(gross_amount), sum(refund_count), sum(refund_amount), sum(failed_count)
       from ${schema}.metrics_15m group by 1, 2, 3, 4, 5`,
    );
  }
}

interface Expected {
  n?: number;
  gross?: number;
  rc?: number;
  ra?: number;
  net?: number;
  failed?: number;
  avg?: number;
  uc?: number;
  /** Whether uc is exact (default true). */
  exact?: boolean;
}

/** Expected values, written out by hand: net and average must be given whenever they are not trivially gross and null. */
export function mv(currency: string, e: Expected = {}): MetricValues {
  if (e.ra !== undefined && e.net === undefined) throw new Error('give net when there are refunds');
  if ((e.n ?? 0) > 0 && e.avg === undefined) throw new Error('give avg when there are transactions');
  return {
    currency,
    transactionCount: e.n ?? 0,
    grossAmount: BigInt(e.gross ?? 0),
    refundCount: e.rc ?? 0,
    refundAmount: BigInt(e.ra ?? 0),
    netAmount: BigInt(e.net ?? e.gross ?? 0),
    failedCount: e.failed ?? 0,
    averageTicket: e.avg === undefined ? null : BigInt(e.avg),
    uniqueCustomers: e.uc ?? 0,
    uniqueCustomersExact: e.exact ?? true,
  };
}

/** A series as [currency, method, store] and its points as [start, values, previous]. */
export function shape(answer: Omit<MetricsAnswer, 'freshness'>) {
  return answer.series.map((s) => ({
    key: [s.currency, s.paymentMethod, s.storeId],
    points: s.points.map((p) => [p.start.toISOString().replace('.000Z', 'Z'), p.values, p.previous]),
  }));
}
