import type { SourceTable } from './bucket-plan.js';
import type { Dimension } from './metrics-query.js';

/**
 * The one statement that answers a metrics query, from index range scans on
 * (merchant_id, bucket): sums per output bucket and series from the chosen
 * metrics table, distinct customers per output bucket and series, and distinct
 * customers per currency over the whole range.
 *
 * Output buckets are found with width_bucket over the boundaries computed in
 * TypeScript rather than with date_trunc(unit, bucket, zone): the grouping can
 * then never disagree with the bucket list, even where the database's tz data
 * differs from Node's (PGlite), and it costs less per row.
 *
 * The answer comes back as one row of JSON: decoding a few hundred rows in the
 * driver cost three times the CPU of one JSON.parse.
 *
 * Parameters: $1 merchant id, $2 boundaries (timestamptz[]), $3/$4 the answer's
 * range, then one [from, to) pair per span to read.
 */
export interface MetricsSqlShape {
  schemaName: string;
  source: SourceTable;
  groupBy: Dimension[];
  spans: number;
}

/** [bucket index (1-based, width_bucket's), currency, method, store, completed, gross, refunds, refunded, failed, customers]. */
export type MetricsCell = [number, string, string, string, string, string, string, string, string, number];

export interface MetricsResult {
  cells: MetricsCell[];
  /** Distinct customers over the whole range, per currency. */
  totals: Record<string, number>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const cache = new Map<string, string>();

export function metricsSql(shape: MetricsSqlShape): string {
  if (!IDENTIFIER.test(shape.schemaName)) throw new Error(`invalid read-model schema name "${shape.schemaName}"`);
  const key = `${shape.schemaName}|${shape.source}|${shape.groupBy.join(',')}|${shape.spans}`;
  let text = cache.get(key);
  if (text === undefined) {
    text = build(shape);
    if (cache.size >= 1000) cache.clear();
    cache.set(key, text);
  }
  return text;
}

function build({ schemaName, source, groupBy, spans }: MetricsSqlShape): string {
  const s = `"${schemaName}"`;
  // Dimensions not grouped by are the constant '' so that the join below can match them with `using`.
  const method = groupBy.includes('PAYMENT_METHOD') ? 'payment_method' : `''::text`;
  const store = groupBy.includes('STORE') ? 'store_id' : `''::text`;
  const spanPredicates = Array.from({ length: spans }, (_, k) => `(bucket >= $${5 + 2 * k} and bucket < $${6 + 2 * k})`);
  const where = `merchant_id = $1 and (${spanPredicates.join(' or ')})`;
  const keys = `width_bucket(bucket, $2::timestamptz[]) as i, currency, ${method} as method, ${store} as store`;
  // Sums of bigint are numeric (and the hourly continuous aggregate stores numeric): sent as text, read as BigInt.
  return `
    with m as (
      select i, currency, method, store,
             sum(completed_count)::text as completed, sum(gross_amount)::text as gross,
             sum(refund_count)::text as refunds, sum(refund_amount)::text as refunded, sum(failed_count)::text as failed
      from (select ${keys}, completed_count, gross_amount, refund_count, refund_amount, failed_count
            from ${s}.${source} where ${where}) x
      group by i, currency, method, store
    ), c as (
      select i, currency, method, store, count(*) as n
      from (select distinct ${keys}, customer_id from ${s}.customers_15m where ${where}) x
      group by i, currency, method, store
    ), t as (
      select currency, count(*) as n
      from (select distinct currency, customer_id from ${s}.customers_15m
            where merchant_id = $1 and bucket >= $3 and bucket < $4) x
      group by currency
    )
    -- A left join loses nothing: customers are recorded only with a completed payment, so with a metrics row.
    select (select coalesce(json_agg(json_build_array(i, currency, method, store, completed, gross, refunds, refunded, failed,
                                                      coalesce(c.n, 0))), '[]')
            from m left join c using (i, currency, method, store)) as cells,
           (select coalesce(json_object_agg(currency, n), '{}') from t) as totals`;
}
