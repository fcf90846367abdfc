import { partitionOf } from '@app/event-store';
import { PROJECTION_NAME } from '../projection/merchant-metrics.projection.js';
import type { SqlClient } from '@app/projections';
import { planBuckets, type BucketPlan } from './bucket-plan.js';
import { freshnessFrom } from './freshness-reader.js';
import { assembleAnswer } from './metrics-answer.js';
import type { MetricsAnswer, MetricsQuery } from './metrics-query.js';
import { metricsSql, type FreshnessColumns, type MetricsResult } from './metrics-sql.js';
import { queryLimits, validateQuery, type QueryLimits, type QueryLimitsInput } from './query-limits.js';
import { layoutOfSchema } from '../projection/merchant-metrics.projection.js';
import { sketchMetricsSql, type SketchSqlRow } from './sketch-metrics-sql.js';
import { planGrainSpans } from './sketch-plan.js';
import { sketchResult } from './sketch-result.js';

/** ISO strings of instants: the same bucket boundaries come back query after query. */
const isoCache = new Map<number, string>();
function iso(t: number): string {
  let text = isoCache.get(t);
  if (text === undefined) {
    text = new Date(t).toISOString();
    if (isoCache.size >= 100_000) isoCache.clear();
    isoCache.set(t, text);
  }
  return text;
}

export interface ReadOptions {
  /**
   * Count unique customers (default true), which is about half of the
   * database's work. Without, every uniqueCustomers of the answer is 0: for
   * callers that do not show them.
   */
  uniqueCustomers?: boolean;
}

interface Statement {
  plan: BucketPlan;
  limits: QueryLimits;
  text: string;
  values: unknown[];
  /** The statement's rows as a MetricsResult (and the freshness columns of its first row). */
  result(rows: unknown[]): MetricsResult & Partial<FreshnessColumns>;
}

function statement(
  schemaName: string,
  query: MetricsQuery,
  input: QueryLimitsInput,
  options: ReadOptions,
  freshness?: { version: number; partition: number },
): Statement {
  const limits = queryLimits(input);
  validateQuery(query, limits);
  const plan = planBuckets(query, limits);
  if (layoutOfSchema(schemaName) === 'sketches') return { limits, ...sketchStatement(schemaName, query, plan, options, freshness) };
  const text = metricsSql({
    schemaName,
    source: plan.source,
    groupBy: query.groupBy ?? [],
    spans: plan.ranges.length,
    customers: options.uniqueCustomers ?? true,
    freshness: freshness !== undefined,
  });
  const values: unknown[] = [query.merchantId, plan.grid.map(iso), iso(plan.range[0]), iso(plan.range[1])];
  for (const [from, to] of plan.ranges) values.push(iso(from), iso(to));
  if (freshness) values.push(PROJECTION_NAME, freshness.version, freshness.partition);
  return { plan, limits, text, values, result: (rows) => rows[0] as MetricsResult & FreshnessColumns };
}

/** The statement for a `sketches`-layout version (v3): the coarsest rows per span, sketches merged here. */
function sketchStatement(
  schemaName: string,
  query: MetricsQuery,
  plan: BucketPlan,
  options: ReadOptions,
  freshness?: { version: number; partition: number },
): Omit<Statement, 'limits'> {
  const customers = options.uniqueCustomers ?? true;
  const text = sketchMetricsSql({ schemaName, groupBy: query.groupBy ?? [], customers, freshness: freshness !== undefined });
  const spans = planGrainSpans(plan);
  const values: unknown[] = [query.merchantId, plan.grid.map(iso)];
  for (const grain of [spans.daily, spans.hourly, spans.quarter]) values.push(grain.map(([from]) => iso(from)), grain.map(([, to]) => iso(to)));
  if (freshness) values.push(PROJECTION_NAME, freshness.version, freshness.partition);
  return {
    plan,
    text,
    values,
    result: (rows) => ({ ...(rows[0] as Partial<FreshnessColumns>), ...sketchResult(plan, rows as SketchSqlRow[], customers) }),
  };
}

/**
 * Answers a metrics query from the read model in `schemaName` (one version's
 * schema, e.g. rm_merchant_metrics_v1) with one SQL statement.
 *
 * Buckets are the merchant's local HOUR/DAY/WEEK(Monday)/MONTH/QUARTER/YEAR in
 * query.timeZone, with PostgreSQL's date_trunc semantics across DST changes;
 * the range is widened to whole buckets. Rows come from the coarsest stored
 * grid (daily, hourly, 15-minute UTC buckets) on which every boundary lies, so
 * regrouping is exact in every zone.
 *
 * Unique customers are exact for every bucket and range: distinct customer ids
 * are counted over the 15-minute customer sets, per output bucket and series,
 * and per currency over the whole range (a customer seen in two buckets counts
 * once in the total). Only customers with a completed payment count.
 *
 * Throws QueryRejectedError, before any database access, for a query outside
 * the limits (missing ones take DEFAULT_QUERY_LIMITS) or that cannot be answered exactly.
 */
export async function readMetrics(
  client: SqlClient,
  schemaName: string,
  query: MetricsQuery,
  input: QueryLimitsInput = {},
  options: ReadOptions = {},
): Promise<Omit<MetricsAnswer, 'freshness'>> {
  const s = statement(schemaName, query, input, options);
  const { rows } = await client.query(s.text, s.values);
  return assembleAnswer(s.plan, query.groupBy ?? [], s.result(rows), s.limits);
}

/**
 * readMetrics and its freshness (see readFreshness) from the same statement:
 * one round trip, and metrics and watermark from one snapshot, so the answer
 * holds exactly what was projected up to asOf. A second, small statement runs
 * only while the projector is behind on the merchant's partition, to find
 * when the first event not yet projected was recorded. `partitions` is the
 * event store's partition count (readPartitionCount from @app/event-store).
 */
export async function readMetricsWithFreshness(
  client: SqlClient,
  live: { schemaName: string; version: number },
  partitions: number,
  query: MetricsQuery,
  input: QueryLimitsInput = {},
  options: ReadOptions = {},
): Promise<MetricsAnswer> {
  const partition = partitionOf(query.merchantId, partitions);
  const s = statement(live.schemaName, query, input, options, { version: live.version, partition });
  const { rows } = await client.query(s.text, s.values);
  if (rows[0] === undefined) throw new Error(`event store partition ${partition} has no head row`);
  const result = s.result(rows);
  const freshness = await freshnessFrom(client, partition, live.version, result as FreshnessColumns);
  return { freshness, watermark: (result as FreshnessColumns).watermark ?? null, ...assembleAnswer(s.plan, query.groupBy ?? [], result, s.limits) };
}
