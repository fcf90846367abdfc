import { advanceCheckpoint, assertSchemaName, PositionGapError, type PositionedEvent, type SqlClient, type VersionTarget } from '@app/projections';
import { MERGE_SQL, mergeRows, rowOf, type PaymentRow } from './payment-row.js';

/** Most payments one statement upserts: a batch with more writes several, all in its one transaction. */
const ROWS_PER_STATEMENT = 5000;

/**
 * Applies a partition's events after `checkpoint` in one transaction with
 * the checkpoint: the batch's events are merged per payment in memory
 * (mergeRows), then each payment's row is upserted once with the same merge
 * in SQL (MERGE_SQL). Returns the new checkpoint.
 */
export async function applyPaymentEvents(
  client: SqlClient,
  target: VersionTarget,
  partition: number,
  checkpoint: number,
  events: readonly PositionedEvent[],
  options: { failureReason: boolean },
): Promise<number> {
  const rows = new Map<string, PaymentRow>();
  let position = checkpoint;
  let recordedAt = '';
  let applied = 0;
  for (const e of events) {
    if (e.position <= position) continue;
    if (e.position !== position + 1) throw new PositionGapError(`partition ${partition}: expected position ${position + 1}, got ${e.position}`);
    position = e.position;
    recordedAt = e.recordedAt;
    applied++;
    const row = rowOf(e, options);
    if (!row) continue;
    const key = `${row.merchantId}\u0000${row.paymentId}`;
    const known = rows.get(key);
    rows.set(key, known ? mergeRows(known, row) : row);
  }
  if (applied === 0) return checkpoint;
  await client.query('begin');
  try {
    await advanceCheckpoint(client, { ...target, partition }, checkpoint, { position, recordedAt, events: applied });
    const all = [...rows.values()];
    for (let i = 0; i < all.length; i += ROWS_PER_STATEMENT) await upsert(client, target.schemaName, partition, all.slice(i, i + ROWS_PER_STATEMENT));
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
  return position;
}

const COLUMNS: Array<[string, string, (r: PaymentRow) => unknown]> = [
  ['merchant_id', 'text', (r) => r.merchantId],
  ['payment_id', 'text', (r) => r.paymentId],
  ['source_rank', 'smallint', (r) => r.sourceRank],
  ['source_position', 'bigint', (r) => r.sourcePosition],
  ['occurred_at', 'timestamptz', (r) => r.occurredAt],
  ['currency', 'text', (r) => r.currency],
  ['amount_minor', 'bigint', (r) => r.amountMinor?.toString() ?? null],
  ['store_id', 'text', (r) => r.storeId],
  ['method', 'text', (r) => r.method],
  ['customer_id', 'text', (r) => r.customerId],
  ['completed_count', 'integer', (r) => r.completedCount],
  ['failed_count', 'integer', (r) => r.failedCount],
  ['failure_position', 'bigint', (r) => r.failurePosition],
  ['failed_at', 'timestamptz', (r) => r.failedAt],
  ['failure_reason', 'text', (r) => r.failureReason],
  ['refund_count', 'integer', (r) => r.refundCount],
  ['refunded_minor', 'bigint', (r) => r.refundedMinor.toString()],
  ['first_refund_at', 'timestamptz', (r) => r.firstRefundAt],
  ['last_refund_at', 'timestamptz', (r) => r.lastRefundAt],
  // Each row's positions as an array literal: unnest cannot take an array of arrays of different lengths.
  ['positions', 'text', (r) => `{${r.positions.join(',')}}`],
];

async function upsert(client: SqlClient, schema: string, partition: number, rows: PaymentRow[]): Promise<void> {
  const s = assertSchemaName(schema);
  const names = COLUMNS.map(([name]) => name);
  await client.query(
    `insert into ${s}.payments as t (partition, ${names.join(', ')})
     select $1::smallint, ${names.map((n) => (n === 'positions' ? 'u.positions::bigint[]' : `u.${n}`)).join(', ')}
       from unnest(${COLUMNS.map(([, type], i) => `$${i + 2}::${type}[]`).join(', ')}) as u(${names.join(', ')})
     on conflict (merchant_id, payment_id) do update set
       ${MERGE_SQL}`,
    [partition, ...COLUMNS.map(([, , value]) => rows.map(value))],
  );
}
