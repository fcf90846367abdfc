import { ADD_TO_CELLS, CELL_COLUMNS, rollUpSql } from '../schema/read-model-tables.js';
import { type ReadModelEngine } from '@app/projections';
import type { SqlClient } from '@app/projections';
import type { CustomerCell, MetricCell, MetricsDelta, PaymentCell } from './metrics-delta.js';
import { iso, numberArray, textArray } from './sql-arrays.js';

const INPUT = `unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
                      $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[]) as u(${CELL_COLUMNS})`;

const upsertSql = (table: string) => `insert into ${table} as t (${CELL_COLUMNS}) select * from ${INPUT} ${ADD_TO_CELLS}`;

/**
 * The 15-minute cells and, in the same statement, the UTC hourly and daily
 * rollups PostgreSQL sums from them (native engine): the cells are sent and
 * parsed once, and nothing is rolled up in Node (the projector's single
 * thread was its bottleneck). The rollups are written in hash order: no two
 * transactions write the same cells at once, since a partition's batches are
 * serialised by its checkpoint row and partitions hold disjoint merchants.
 */
const upsertWithRollupsSql = (schema: string) => {
  // Only below the partition's rollup watermark (registry/rollup-watermark.ts); above it the rollups
  // are materialized later. The batch holds the checkpoint row lock, so the watermark cannot move meanwhile.
  const rollup = (table: string, width: '1 hour' | '1 day') =>
    `insert into ${schema}.${table} as t (${CELL_COLUMNS}) ${rollUpSql('cells', width, 'bucket < (select w from watermark)')} ${ADD_TO_CELLS}`;
  return `with watermark as (select coalesce((select materialized_until from ${schema}.rollup_watermark where partition = $11::smallint),
                                             'infinity'::timestamptz) as w),
          cells as materialized (select * from ${INPUT}),
          quarter as (insert into ${schema}.metrics_15m as t (${CELL_COLUMNS}) select * from cells ${ADD_TO_CELLS}),
          hourly as (${rollup('metrics_hourly', '1 hour')})
          ${rollup('metrics_daily', '1 day')}`;
};

async function upsertCells(client: SqlClient, sql: string, cells: MetricCell[], ...extra: unknown[]): Promise<void> {
  if (cells.length === 0) return;
  // Key order, so two writers touching the same cells could never deadlock.
  cells.sort(compareCells);
  await client.query(sql, [
    textArray(cells, (c) => c.merchantId),
    textArray(cells, (c) => iso(c.bucket)),
    textArray(cells, (c) => c.currency),
    textArray(cells, (c) => c.paymentMethod),
    textArray(cells, (c) => c.storeId),
    numberArray(cells, (c) => c.completedCount),
    numberArray(cells, (c) => c.grossAmount),
    numberArray(cells, (c) => c.refundCount),
    numberArray(cells, (c) => c.refundAmount),
    numberArray(cells, (c) => c.failedCount),
    ...extra,
  ]);
}

async function insertCustomers(client: SqlClient, table: string, customers: CustomerCell[]): Promise<void> {
  if (customers.length === 0) return;
  await client.query(
    `insert into ${table} (merchant_id, bucket, currency, payment_method, store_id, customer_id)
     select * from unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[])
     on conflict do nothing`,
    [
      textArray(customers, (c) => c.merchantId),
      textArray(customers, (c) => iso(c.bucket)),
      textArray(customers, (c) => c.currency),
      textArray(customers, (c) => c.paymentMethod),
      textArray(customers, (c) => c.storeId),
      textArray(customers, (c) => c.customerId),
    ],
  );
}

export async function insertPayments(client: SqlClient, table: string, payments: PaymentCell[]): Promise<void> {
  if (payments.length === 0) return;
  await client.query(
    `insert into ${table} (merchant_id, payment_id, bucket)
     select * from unnest($1::text[], $2::text[], $3::timestamptz[])
     on conflict do nothing`,
    [textArray(payments, (p) => p.merchantId), textArray(payments, (p) => p.paymentId), textArray(payments, (p) => iso(p.bucket))],
  );
}

function compareCells(a: MetricCell, b: MetricCell): number {
  if (a.merchantId !== b.merchantId) return a.merchantId < b.merchantId ? -1 : 1;
  if (a.bucket !== b.bucket) return a.bucket - b.bucket;
  if (a.currency !== b.currency) return a.currency < b.currency ? -1 : 1;
  if (a.paymentMethod !== b.paymentMethod) return a.paymentMethod < b.paymentMethod ? -1 : 1;
  return a.storeId < b.storeId ? -1 : a.storeId > b.storeId ? 1 : 0;
}

/**
 * Adds a delta of event-store partition `partition` to a read-model version's
 * tables: one upsert statement per table. On plain PostgreSQL the hourly and
 * daily rollups below the partition's watermark are maintained here, in the
 * same transaction (above it they are materialized later); on TimescaleDB
 * they are continuous aggregates. Call inside the transaction that advances
 * the partition's checkpoint, after that.
 */
export async function writeDelta(client: SqlClient, schema: string, engine: ReadModelEngine, delta: MetricsDelta, partition: number): Promise<void> {
  const cells = [...delta.cells.values()];
  if (engine === 'postgres') await upsertCells(client, upsertWithRollupsSql(schema), cells, partition);
  else await upsertCells(client, upsertSql(`${schema}.metrics_15m`), cells);
  await insertCustomers(client, `${schema}.customers_15m`, [...delta.customers.values()]);
  await insertPayments(client, `${schema}.payments`, [...delta.payments.values()]);
}
