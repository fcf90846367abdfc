import type { SqlClient } from '../sql-client.js';
import { planBuckets } from './bucket-plan.js';
import { assembleAnswer } from './metrics-answer.js';
import type { MetricsAnswer, MetricsQuery } from './metrics-query.js';
import { metricsSql, type MetricsResult } from './metrics-sql.js';
import { queryLimits, validateQuery, type QueryLimitsInput } from './query-limits.js';

const iso = (t: number) => new Date(t).toISOString();

/**
 * Answers a metrics query from the read model in `schemaName` (one version's
 * schema, e.g. rm_merchant_metrics_v1) with one SQL statement.
 *
 * Buckets are the merchant's local HOUR/DAY/WEEK(Monday)/MONTH in
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
): Promise<Omit<MetricsAnswer, 'freshness'>> {
  const limits = queryLimits(input);
  validateQuery(query, limits);
  const plan = planBuckets(query, limits);
  const groupBy = query.groupBy ?? [];
  const text = metricsSql({ schemaName, source: plan.source, groupBy, spans: plan.ranges.length });
  const values: unknown[] = [query.merchantId, plan.grid.map(iso), iso(plan.range[0]), iso(plan.range[1])];
  for (const [from, to] of plan.ranges) values.push(iso(from), iso(to));
  const { rows } = await client.query<MetricsResult>(text, values);
  return assembleAnswer(plan, groupBy, rows[0]);
}
