import { assertSchemaName, type ProjectionDefinition, type SqlClient, type VersionDiff } from '@app/projections';
import { applyPaymentEvents } from './apply-payments.js';
import { createPaymentTables } from './payment-tables.js';

export const PAYMENTS_PROJECTION = 'merchant-payments';

interface PaymentsVersion {
  description: string;
  /** Keep the failure's reason (v2). */
  failureReason: boolean;
}

const VERSIONS = new Map<number, PaymentsVersion>([
  [1, { description: 'one row per payment: state, amounts, store, method, customer, times and the positions of its events', failureReason: false }],
  [2, { description: "v1's rows with the failure's reason (failure_reason)", failureReason: true }],
]);

function versionOf(version: number): PaymentsVersion {
  const v = VERSIONS.get(version);
  if (!v) throw new Error(`${PAYMENTS_PROJECTION} has no version ${version} (known: ${[...VERSIONS.keys()].join(', ')})`);
  return v;
}

/** The columns a diff compares: everything but the key and the partition (which follows from the merchant). */
const DIFF_FIELDS = [
  'status', 'occurred_at', 'currency', 'amount_minor', 'refunded_minor', 'refund_count', 'completed_count', 'failed_count',
  'store_id', 'method', 'customer_id', 'failed_at', 'failure_reason', 'first_refund_at', 'last_refund_at', 'positions',
];

/**
 * Payment search: one row per payment with its current state
 * (payment-tables.ts), applied per batch (apply-payments.ts). It has no
 * set-based fold: a rebuild replays the store through the same apply.
 */
export const merchantPaymentsProjection: ProjectionDefinition = {
  name: PAYMENTS_PROJECTION,
  defaultVersion: 1,
  versions: () => [...VERSIONS.keys()],
  describe: (version) => versionOf(version).description,
  createTables: (client, target) => createPaymentTables(client, target.schemaName),
  open(target) {
    const options = { failureReason: versionOf(target.version).failureReason };
    return { apply: (client, partition, checkpoint, events) => applyPaymentEvents(client, target, partition, checkpoint, events, options) };
  },
  diff: (client, from, to, filter) => diffPayments(client, from.schemaName, to.schemaName, filter),
};

/** Every payment whose row differs between two versions (a missing row differs from any). */
async function diffPayments(
  client: SqlClient, fromSchema: string, toSchema: string, filter: { merchantId?: string; from?: Date; to?: Date; limit?: number },
): Promise<VersionDiff> {
  const a = assertSchemaName(fromSchema);
  const b = assertSchemaName(toSchema);
  const where = `($1::text is null or merchant_id = $1) and ($2::timestamptz is null or occurred_at >= $2) and ($3::timestamptz is null or occurred_at < $3)`;
  const joined = `
    from (select * from ${a}.payments where ${where}) a
    full join (select * from ${b}.payments where ${where}) b using (merchant_id, payment_id)
    where a.payment_id is null or b.payment_id is null or ${DIFF_FIELDS.map((f) => `a.${f} is distinct from b.${f}`).join(' or ')}`;
  const values = [filter.merchantId ?? null, filter.from?.toISOString() ?? null, filter.to?.toISOString() ?? null];
  const { rows: counts } = await client.query<{ rows: string; merchants: string }>(
    `select count(*) as rows, count(distinct merchant_id) as merchants ${joined}`, values,
  );
  const { rows } = await client.query<Record<string, string | null>>(
    `select merchant_id, payment_id,
            ${DIFF_FIELDS.map((f) => `a.${f}::text as a_${f}, b.${f}::text as b_${f}`).join(', ')}
     ${joined} order by merchant_id, payment_id limit $4`,
    [...values, filter.limit ?? 50],
  );
  return {
    unit: 'payments',
    rows: Number(counts[0]!.rows),
    merchants: Number(counts[0]!.merchants),
    listed: rows.map((r) => {
      const fields: Record<string, [string, string]> = {};
      for (const f of DIFF_FIELDS) {
        const [x, y] = [r[`a_${f}`] ?? '-', r[`b_${f}`] ?? '-'];
        if (x !== y) fields[f] = [x, y];
      }
      return { key: { merchant: String(r.merchant_id), payment: String(r.payment_id) }, fields };
    }),
  };
}
