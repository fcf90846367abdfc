import type pg from 'pg';
import { readPartitionCount } from '@app/event-store';
import {
  DEFAULT_QUERY_LIMITS,
  LiveVersionCache,
  readMetricsWithFreshness,
  validateQuery,
  type MetricsAnswer,
  type MetricsQuery,
  type QueryLimits,
  type ReadOptions,
  type SqlClient,
} from '@app/merchant-metrics';
import type { LiveVersionPin, MerchantMetricsService } from './merchant-metrics.service.js';

/** QUERY_MAX_BUCKETS and QUERY_MAX_RANGE_DAYS as the reader's limits. */
export function readerLimits(config: { maxBuckets: number; maxRangeDays: number }): QueryLimits {
  const days = config.maxRangeDays;
  return {
    ...DEFAULT_QUERY_LIMITS,
    maxBuckets: config.maxBuckets,
    // Hourly answers read 15-minute rows; the reader's own, tighter bound for them stays in force.
    maxRangeDays: { HOUR: Math.min(days, DEFAULT_QUERY_LIMITS.maxRangeDays.HOUR), DAY: days, WEEK: days, MONTH: days },
  };
}

/**
 * Answers from the live version of the merchant-metrics read model. The live
 * pointer is cached briefly (a promotion is seen within half a second) and
 * held for the whole request by the caller's LiveVersionPin; the event store's
 * partition count is cached once (it is fixed at install). Metrics
 * and freshness come from one statement (readMetricsWithFreshness) sent
 * through `statements`: the pool itself by default, a PreparedStatementClient
 * in the app.
 */
export class SqlMerchantMetricsService implements MerchantMetricsService {
  private partitions: Promise<number> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly limits: QueryLimits,
    private readonly statements: SqlClient = pool,
    private readonly live = new LiveVersionCache(pool),
  ) {}

  async query(query: MetricsQuery, options: ReadOptions = {}, pin?: LiveVersionPin): Promise<MetricsAnswer> {
    // A bad query is the caller's mistake whatever state the read model is in: check it first.
    validateQuery(query, this.limits);
    // Pinned only once validated: a look-up nobody awaits could reject unhandled.
    const live = await (pin === undefined ? this.live.get() : (pin.liveVersion ??= this.live.get()));
    this.partitions ??= readPartitionCount(this.pool).catch((error: unknown) => {
      this.partitions = undefined;
      throw error;
    });
    return readMetricsWithFreshness(this.statements, live, await this.partitions, query, this.limits, options);
  }
}
