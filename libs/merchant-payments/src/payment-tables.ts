import { assertSchemaName, type SqlClient } from '@app/projections';

/**
 * One row per payment of a merchant with its current state, and the
 * positions of its events in the merchant's event-store partition.
 *
 * Every column is merged with an operation that does not depend on the order
 * the events arrive in (payment-row.ts): sums (counts, refunded amount),
 * minimum and maximum (first and last refund), the minimum of a rank and
 * position pair for the event that describes the payment (its first
 * completion, else its first failure, else its first refund), and the union
 * of the positions. `status` and `over_refunded` are computed by PostgreSQL
 * from those columns, so a rebuild and the live projection, whatever their
 * batches, end with the same rows.
 *
 * The indexes are the filters the search serves (payment-search.ts): by
 * time, and by customer, store, method or status, each newest first.
 */
export const STATUS_SQL = `case
    when completed_count > 0 then case
      when refunded_minor >= amount_minor then 'REFUNDED'
      when refunded_minor > 0 then 'PARTIALLY_REFUNDED'
      else 'COMPLETED' end
    when failed_count > 0 then 'FAILED'
    else 'REFUND_ONLY' end`;

export async function createPaymentTables(client: SqlClient, schema: string): Promise<void> {
  const s = assertSchemaName(schema);
  await client.query(`
    create table ${s}.payments (
      merchant_id      text collate "C" not null,
      payment_id       text collate "C" not null,
      partition        smallint not null,
      -- The describing event: 1 completion, 2 failure, 3 refund; the first by position of the lowest rank.
      source_rank      smallint not null,
      source_position  bigint not null,
      occurred_at      timestamptz not null,
      currency         text collate "C" not null,
      -- The completion's or failure's amount; null for a refund whose payment the store does not hold.
      amount_minor     bigint,
      store_id         text collate "C" not null,
      method           text collate "C" not null,
      customer_id      text collate "C",
      completed_count  integer not null,
      failed_count     integer not null,
      failure_position bigint,
      failed_at        timestamptz,
      failure_reason   text,
      refund_count     integer not null,
      refunded_minor   bigint not null,
      first_refund_at  timestamptz,
      last_refund_at   timestamptz,
      positions        bigint[] not null,
      status           text collate "C" not null generated always as (${STATUS_SQL}) stored,
      over_refunded    boolean not null generated always as (completed_count > 0 and refunded_minor > amount_minor) stored,
      primary key (merchant_id, payment_id)
    )`);
  // Ascending: the search reads them backwards (newest first), its cursor a row comparison on the last two columns.
  for (const [name, columns] of [
    ['by_time', 'merchant_id, occurred_at, payment_id'],
    ['by_customer', 'merchant_id, customer_id, occurred_at, payment_id'],
    ['by_store', 'merchant_id, store_id, occurred_at, payment_id'],
    ['by_method', 'merchant_id, method, occurred_at, payment_id'],
    ['by_status', 'merchant_id, status, occurred_at, payment_id'],
  ] as const) {
    await client.query(`create index payments_${name} on ${s}.payments (${columns})`);
  }
}
