import { assertSchemaName, type SqlClient } from '@app/projections';
import { layoutOfSchema } from '../projection/merchant-metrics.projection.js';
import { MEASURE_COLUMNS } from '../schema/measures.js';
import { CELL_KEY as CELL } from '../schema/read-model-tables.js';

export interface DiffFilter {
  merchantId?: string;
  from?: Date;
  to?: Date;
  /** Most differing cells listed (all are counted). */
  limit?: number;
}

export interface CellDifference {
  merchantId: string;
  bucket: Date;
  currency: string;
  paymentMethod: string;
  storeId: string;
  /** Field → [value in the first version, value in the second]; only fields that differ. */
  fields: Record<string, [string, string]>;
}

export interface VersionDiff {
  cells: number;
  merchants: number;
  listed: CellDifference[];
}

/** The measures (schema/measures.ts) and each cell's number of distinct customers. */
const FIELDS: readonly string[] = [...MEASURE_COLUMNS, 'unique_customers'];

/**
 * Compares two versions' base tables (15-minute cells; rollups derive from
 * them) cell by cell: every (merchant, bucket, currency, method, store) whose
 * sums or number of distinct customers differ, a missing cell counting as
 * zeros. The customer count per cell is what every unique-customers answer is
 * built from, so a version that changes only who counts as a customer shows
 * up too. PostHog-style check before a promote: the differences should be
 * exactly the ones the new logic intends.
 */
export async function diffVersions(client: SqlClient, fromSchema: string, toSchema: string, filter: DiffFilter = {}): Promise<VersionDiff> {
  const a = assertSchemaName(fromSchema);
  const b = assertSchemaName(toSchema);
  const where = `($1::text is null or merchant_id = $1) and ($2::timestamptz is null or bucket >= $2) and ($3::timestamptz is null or bucket < $3)`;
  const values = [filter.merchantId ?? null, filter.from?.toISOString() ?? null, filter.to?.toISOString() ?? null];
  const differs = FIELDS.map((f) => `coalesce(a.${f}, 0) <> coalesce(b.${f}, 0)`).join(' or ');
  // A v3 (sketches) cell counts its customers with its sketch's estimate, exact up to 256 customers a cell.
  const side = (schema: string) => layoutOfSchema(schema) === 'sketches'
    ? `(select *, ${schema}.sketch_estimate(customers) as unique_customers from ${schema}.metrics_15m where ${where})`
    : `
    (select * from (select * from ${schema}.metrics_15m where ${where}) m
     full join (select ${CELL}, count(*) as unique_customers from ${schema}.customers_15m where ${where} group by ${CELL}) c using (${CELL}))`;
  const joined = `
    from ${side(a)} a
    full join ${side(b)} b using (${CELL})
    where ${differs}`;
  const { rows: counts } = await client.query<{ cells: string; merchants: string }>(
    `select count(*) as cells, count(distinct merchant_id) as merchants ${joined}`,
    values,
  );
  const { rows } = await client.query<Record<string, string | Date>>(
    `select ${CELL},
            ${FIELDS.map((f) => `coalesce(a.${f}, 0)::text as a_${f}, coalesce(b.${f}, 0)::text as b_${f}`).join(', ')}
     ${joined}
     order by ${CELL}
     limit $4`,
    [...values, filter.limit ?? 50],
  );
  return {
    cells: Number(counts[0].cells),
    merchants: Number(counts[0].merchants),
    listed: rows.map((r) => {
      const fields: Record<string, [string, string]> = {};
      for (const f of FIELDS) if (r[`a_${f}`] !== r[`b_${f}`]) fields[f] = [String(r[`a_${f}`]), String(r[`b_${f}`])];
      return {
        merchantId: String(r.merchant_id), bucket: new Date(r.bucket), currency: String(r.currency),
        paymentMethod: String(r.payment_method), storeId: String(r.store_id), fields,
      };
    }),
  };
}
