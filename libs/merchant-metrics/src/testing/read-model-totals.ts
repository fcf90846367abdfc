import { layoutOfSchema } from '../projection/merchant-metrics.projection.js';
import { SKETCH_TABLES, sketchTableColumnList } from '../schema/sketch-tables.js';
import type { SqlClient } from '@app/projections';

export interface StoredTotals {
  completed: number;
  gross: bigint;
  refunds: number;
  refunded: bigint;
  failed: number;
  customers: number;
}

/** Per merchant/currency totals as a read-model version holds them (test helper). */
export async function readModelTotals(client: SqlClient, schema: string, merchantPrefix: string): Promise<Map<string, StoredTotals>> {
  const { rows } = await client.query<{ key: string; completed: string; gross: string; refunds: string; refunded: string; failed: string; customers: string }>(
    `select m.merchant_id || '/' || m.currency as key, m.completed::text, m.gross::text, m.refunds::text, m.refunded::text, m.failed::text,
            coalesce(c.customers, 0)::text as customers
     from (select merchant_id, currency, sum(completed_count) completed, sum(gross_amount) gross, sum(refund_count) refunds,
                  sum(refund_amount) refunded, sum(failed_count) failed
           from ${schema}.metrics_15m where starts_with(merchant_id, $1) group by 1, 2) m
     left join (${layoutOfSchema(schema) === 'sketches'
       // v3: the daily totals' sketches merged (exact up to 256 customers per merchant and currency).
       ? `select merchant_id, currency, ${schema}.sketch_estimate(${schema}.sketch_union(array_agg(customers))) customers
          from ${schema}.totals_daily where starts_with(merchant_id, $1) group by 1, 2`
       : `select merchant_id, currency, count(distinct customer_id) customers
          from ${schema}.customers_15m where starts_with(merchant_id, $1) group by 1, 2`}) c using (merchant_id, currency)
     order by 1`,
    [merchantPrefix],
  );
  return new Map(rows.map((r) => [r.key, {
    completed: Number(r.completed), gross: BigInt(r.gross), refunds: Number(r.refunds),
    refunded: BigInt(r.refunded), failed: Number(r.failed), customers: Number(r.customers),
  }]));
}

/** expectedTotals() in the same shape as readModelTotals(), for one toEqual. */
export function asStoredTotals(expected: Map<string, { completed: number; gross: bigint; refunds: number; refunded: bigint; failed: number; customers: Set<string> }>): Map<string, StoredTotals> {
  return new Map([...expected.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, t]) => [k, { ...t, customers: t.customers.size }]));
}

/** Every row of a sketch table (v3) as one string, sketches in hex, sorted: for byte-for-byte comparisons (test helper). */
export async function dumpSketchTable(client: SqlClient, schema: string, table: string): Promise<string[]> {
  const t = SKETCH_TABLES.find((x) => x.name === table);
  if (!t) throw new Error(`no sketch table ${table}`);
  const columns = sketchTableColumnList(t).map((c) => (c === 'customers' ? `encode(customers, 'hex')` : c === 'bucket' ? `to_char(bucket at time zone 'UTC', 'YYYY-MM-DD HH24:MI')` : c));
  const { rows } = await client.query<{ row: string }>(`select concat_ws('|', ${columns.join(', ')}) as row from ${schema}.${table} order by 1`);
  return rows.map((x) => x.row);
}
