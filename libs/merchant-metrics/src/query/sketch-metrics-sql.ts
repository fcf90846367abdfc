import { MEASURE_COLUMNS } from '../schema/measures.js';
import { rollupsFor } from '../schema/sketch-tables.js';
import type { Dimension } from './metrics-query.js';
import { freshnessColumnsSql } from './metrics-sql.js';

/**
 * The one statement that answers a metrics query from a `sketches`-layout
 * version (v3). It reads, by index range scans on (merchant_id, bucket), the
 * daily, hourly and 15-minute rows of the spans planGrainSpans chose, from
 * the rollups with exactly the question's dimensions (rollupsFor: one row per
 * bucket and series), and the 15-minute rows only at edges. Rows are grouped into output buckets with width_bucket
 * over the boundaries computed in TypeScript (see metrics-sql.ts for why).
 *
 * With customers, a grouped question also reads the rows without dimensions
 * (totals_only), from which the totals' customers are merged.
 *
 * It returns one row per output bucket and series: the sums (as text, read
 * as BigInt), and with `customers` the series' sketches of that bucket
 * concatenated, each preceded by its length as 4 bytes (int4send), for the
 * caller to merge (libs/sketches): PostgreSQL has no function to merge them
 * without an extension, and merging costs one pass per sketch read.
 *
 * With `freshness`, every row (and one row of nulls when nothing matched)
 * also carries the merchant's partition head and the version's checkpoint,
 * from the same snapshot.
 *
 * Parameters: $1 merchant id, $2 boundaries (timestamptz[]), $3/$4 from/to
 * arrays of the daily spans, $5/$6 hourly, $7/$8 15-minute, then with
 * `freshness` the projection name, its version and the event-store partition.
 */
export interface SketchSqlShape {
  schemaName: string;
  groupBy: Dimension[];
  customers: boolean;
  freshness: boolean;
}

/** A row of the statement: i is width_bucket's 1-based index, null in the row of a statement with no match. */
export interface SketchSqlRow {
  i: number | null;
  currency: string;
  method: string;
  store: string;
  completed_count: string;
  gross_amount: string;
  refund_count: string;
  refund_amount: string;
  failed_count: string;
  sketches?: Uint8Array | null;
  /** A row read only for the totals' customers (a grouped answer's rollups without dimensions). */
  totals_only?: boolean | null;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const cache = new Map<string, string>();

export function sketchMetricsSql(shape: SketchSqlShape): string {
  if (!IDENTIFIER.test(shape.schemaName)) throw new Error(`invalid read-model schema name "${shape.schemaName}"`);
  const key = `${shape.schemaName}|${shape.groupBy.join(',')}|${shape.customers}|${shape.freshness}`;
  let text = cache.get(key);
  if (text === undefined) {
    text = build(shape);
    if (cache.size >= 1000) cache.clear();
    cache.set(key, text);
  }
  return text;
}

function build({ schemaName, groupBy, customers, freshness }: SketchSqlShape): string {
  const s = `"${schemaName}"`;
  const rollups = rollupsFor(groupBy);
  const grouped = groupBy.length > 0;
  const columnsOf = (method: string, store: string, totalsOnly: boolean) => [
    `width_bucket(x.bucket, $2::timestamptz[]) as i`, 'x.currency', `${method} as method`, `${store} as store`,
    ...MEASURE_COLUMNS.map((m) => `x.${m}`), ...(customers ? ['x.customers'] : []), `${totalsOnly} as totals_only`,
  ].join(', ');
  const series = columnsOf(
    groupBy.includes('PAYMENT_METHOD') ? 'x.payment_method' : `''::text`, groupBy.includes('STORE') ? 'x.store_id' : `''::text`, false,
  );
  // One index range scan per span. `offset 0` keeps the planner from flattening the lateral
  // subquery into a join: with a generic plan (the query pool's) it otherwise read every row of the
  // merchant once and filtered them by span, O(the merchant's history) instead of O(the answer).
  const read = (table: string, from: number, columns = series) =>
    `select ${columns} from unnest($${from}::timestamptz[], $${from + 1}::timestamptz[]) as s(f, t)
     cross join lateral (select * from ${s}.${table} y where y.merchant_id = $1 and y.bucket >= s.f and y.bucket < s.t offset 0) x`;
  const reads = [read(rollups.daily, 3), read(rollups.hourly, 5), read('metrics_15m', 7)];
  // A grouped answer's totals count each customer once over all its series: from the rollups
  // without dimensions, a few large sketches, rather than by merging every series' sketches again.
  if (customers && grouped) {
    const totals = columnsOf(`''::text`, `''::text`, true);
    reads.push(read('totals_daily', 3, totals), read('totals_hourly', 5, totals), read('metrics_15m', 7, totals));
  }
  const rows = reads.join(' union all ');
  const sums = MEASURE_COLUMNS.map((m) => `sum(${m})::text as ${m}`).join(', ');
  const sketches = customers ? `, string_agg(int4send(length(customers)) || customers, ''::bytea) as sketches` : '';
  const m = `m as (select i, currency, method, store, totals_only, ${sums}${sketches} from (${rows}) r group by i, currency, method, store, totals_only)`;
  if (!freshness) return `with ${m} select * from m`;
  const p = 9;
  return `
    with ${m},
    f as (${freshnessColumnsSql(s, p)})
    select m.*, f.* from f left join m on true`;
}
