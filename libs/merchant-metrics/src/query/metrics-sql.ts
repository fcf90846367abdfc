import { CELL_SUMS } from '../schema/read-model-tables.js';
import type { SourceTable } from './bucket-plan.js';
import type { Dimension } from './metrics-query.js';

/**
 * The one statement that answers a metrics query, from index range scans on
 * (merchant_id, bucket): sums per output bucket and series from the chosen
 * metrics table, distinct customers per output bucket and series, and distinct
 * customers per currency over the answer's range.
 *
 * Output buckets are found with width_bucket over the boundaries computed in
 * TypeScript rather than with date_trunc(unit, bucket, zone): the grouping can
 * then never disagree with the bucket list, even where the database's tz data
 * differs from Node's (PGlite), and it costs less per row.
 *
 * Customers are read twice, hashed both times: distinct (output bucket,
 * series, customer) counted per bucket and series, and distinct (currency,
 * customer) over the answer's range for the totals. (Reading them once into a
 * materialized CTE cost more: with generic plans the planner misjudges the
 * CTE's size and sorts it for the totals.) Without `customers`, none of that
 * is read (counts come back as 0).
 *
 * With `freshness`, the same statement (so the same snapshot) also returns the
 * merchant's event-store partition head and the version's checkpoint on it,
 * from which the answer's freshness follows (freshness-reader.ts).
 *
 * The answer comes back as one row of JSON: decoding a few hundred rows in the
 * driver cost three times the CPU of one JSON.parse. The text depends only on
 * the shape (never on values), so it can be a prepared statement.
 *
 * Parameters: $1 merchant id, $2 boundaries (timestamptz[]), $3/$4 the
 * answer's range, then one [from, to) pair per span to read, then with
 * `freshness` the projection name, its version and the event-store partition.
 */
export interface MetricsSqlShape {
  schemaName: string;
  source: SourceTable;
  groupBy: Dimension[];
  spans: number;
  /** Count unique customers (default true). */
  customers?: boolean;
  /** Also return the partition head and checkpoint (default false). */
  freshness?: boolean;
}

/**
 * [bucket index (1-based, width_bucket's), currency, method, store, completed, gross, refunds, refunded, failed, customers,
 * whether customers is exact (absent: exact)].
 */
export type MetricsCell = [number, string, string, string, string, string, string, string, string, number, boolean?];

export interface MetricsResult {
  cells: MetricsCell[];
  /** Distinct customers over the whole range, per currency. */
  totals: Record<string, number>;
  /** Whether each of `totals` is exact (absent: exact). */
  totalsExact?: Record<string, boolean>;
}

/** The extra columns of a statement built with `freshness`. */
export interface FreshnessColumns {
  /** The partition's head position (bigint as text). */
  head: string;
  /** The version's checkpoint on the partition, 0 without one (bigint as text). */
  position: string;
  /** When the checkpoint's event was recorded; null at position 0. */
  checkpoint_recorded_at: Date | null;
  /** The statement's now(). */
  now: Date;
  /** On a hot standby, when the last transaction it replayed committed on the primary (REPLAYED_AT_SQL); null on the primary. */
  replayed_at: Date | null;
  /** The merchant's row of merchant_watermarks in the same snapshot (bigint as text); null without one. */
  watermark: string | null;
}

/**
 * The SELECT of FreshnessColumns, one row, for the read-model schema `s` (quoted or not, as the
 * caller writes it): $1 the merchant id, $p the projection, $p+1 its version, $p+2 the event-store
 * partition. Every statement that answers with freshness uses it (the metrics statements and the
 * answer cache's check, readMerchantWatermark).
 */
/**
 * On a hot standby, the commit time of the last transaction it replayed:
 * everything the primary committed before it is on the standby. Null on the
 * primary (and on a standby that has replayed nothing since it started).
 */
export const REPLAYED_AT_SQL = `case when pg_is_in_recovery() then pg_last_xact_replay_timestamp() end`;

export function freshnessColumnsSql(s: string, p: number): string {
  return `select h.head::text as head, coalesce(k.position, 0)::text as position, k.recorded_at as checkpoint_recorded_at, now() as now, ${REPLAYED_AT_SQL} as replayed_at,
           (select w.position::text from ${s}.merchant_watermarks w where w.merchant_id = $1) as watermark
    from event_store.partition_heads h
    left join projections.checkpoints k on k.projection = $${p}::text and k.version = $${p + 1}::int and k.partition = h.partition
    where h.partition = $${p + 2}::smallint`;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const cache = new Map<string, string>();

export function metricsSql(shape: MetricsSqlShape): string {
  if (!IDENTIFIER.test(shape.schemaName)) throw new Error(`invalid read-model schema name "${shape.schemaName}"`);
  const customers = shape.customers ?? true;
  const freshness = shape.freshness ?? false;
  const key = `${shape.schemaName}|${shape.source}|${shape.groupBy.join(',')}|${shape.spans}|${customers}|${freshness}`;
  let text = cache.get(key);
  if (text === undefined) {
    text = build(shape, customers, freshness);
    if (cache.size >= 1000) cache.clear();
    cache.set(key, text);
  }
  return text;
}

function build({ schemaName, source, groupBy, spans }: MetricsSqlShape, customers: boolean, freshness: boolean): string {
  const s = `"${schemaName}"`;
  // Dimensions not grouped by are the constant '' so that the join below can match them with `using`.
  const method = groupBy.includes('PAYMENT_METHOD') ? 'payment_method' : `''::text`;
  const store = groupBy.includes('STORE') ? 'store_id' : `''::text`;
  const spanPredicates = Array.from({ length: spans }, (_, k) => `(bucket >= $${5 + 2 * k} and bucket < $${6 + 2 * k})`);
  const where = `merchant_id = $1 and (${spanPredicates.join(' or ')})`;
  const keys = `width_bucket(bucket, $2::timestamptz[]) as i, currency, ${method} as method, ${store} as store`;
  const p = 5 + 2 * spans;
  // A rollup holds every event below the rollup watermark (its lowest over the partitions; none:
  // everywhere); above it the 15-minute rows are read (registry/rollup-watermark.ts).
  const rows = source === 'metrics_15m'
    ? `select ${keys}, ${CELL_SUMS} from ${s}.metrics_15m where ${where}`
    : `select ${keys}, ${CELL_SUMS} from ${s}.${source} where ${where} and bucket < (select w from wm)
       union all
       select ${keys}, ${CELL_SUMS} from ${s}.metrics_15m where ${where} and bucket >= (select w from wm)`;
  const ctes = [
    ...(source === 'metrics_15m' ? [] : [
      `wm as (select coalesce(min(materialized_until), 'infinity'::timestamptz) as w from ${s}.rollup_watermark)`,
    ]),
    // Sums of bigint are numeric (and the hourly continuous aggregate stores numeric): sent as text, read as BigInt.
    `m as (
      select i, currency, method, store,
             sum(completed_count)::text as completed, sum(gross_amount)::text as gross,
             sum(refund_count)::text as refunds, sum(refund_amount)::text as refunded, sum(failed_count)::text as failed
      from (${rows}) x
      group by i, currency, method, store
    )`,
  ];
  if (customers) {
    ctes.push(
      `c as (
        select i, currency, method, store, count(*) as n
        from (select distinct ${keys}, customer_id from ${s}.customers_15m where ${where}) x
        group by i, currency, method, store
      )`,
      `t as (
        select currency, count(*) as n
        from (select distinct currency, customer_id from ${s}.customers_15m
              where merchant_id = $1 and bucket >= $3 and bucket < $4) x
        group by currency
      )`,
    );
  }
  if (freshness) {
    ctes.push(
      `f as (${freshnessColumnsSql(s, p)})`,
    );
  }
  const customerCount = customers ? 'coalesce(c.n, 0)' : '0';
  // A left join loses nothing: customers are recorded only with a completed payment, so with a metrics row.
  const cells = `(select coalesce(json_agg(json_build_array(i, currency, method, store, completed, gross, refunds, refunded, failed, ${customerCount})), '[]')
            from m${customers ? ' left join c using (i, currency, method, store)' : ''}) as cells`;
  // Without customers $3/$4 are still named, so that they keep a type in a prepared statement.
  const totals = customers
    ? `(select coalesce(json_object_agg(currency, n), '{}') from t) as totals`
    : `coalesce((select '{}'::json where $3::timestamptz is null and $4::timestamptz is null), '{}'::json) as totals`;
  return `
    with ${ctes.join(', ')}
    select ${cells},
           ${totals}${freshness ? ', f.head, f.position, f.checkpoint_recorded_at, f.now, f.replayed_at, f.watermark from f' : ''}`;
}
