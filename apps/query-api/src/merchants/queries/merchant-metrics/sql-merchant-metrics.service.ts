import type pg from 'pg';
import { readPartitionCount } from '@app/event-store';
import {
  DEFAULT_QUERY_LIMITS,
  LiveVersionCache,
  readFreshness,
  readMetrics,
  validateQuery,
  type MetricsAnswer,
  type MetricsQuery,
  type QueryLimits,
} from '@app/merchant-metrics';
import type { MerchantMetricsService } from './merchant-metrics.service.js';

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
 * the event store's partition count once (it is fixed at install).
 */
export class SqlMerchantMetricsService implements MerchantMetricsService {
  private readonly live: LiveVersionCache;
  private partitions: Promise<number> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly limits: QueryLimits,
  ) {
    this.live = new LiveVersionCache(pool);
  }

  async query(query: MetricsQuery): Promise<MetricsAnswer> {
    // A bad query is the caller's mistake whatever state the read model is in: check it first.
    validateQuery(query, this.limits);
    const live = await this.live.get();
    this.partitions ??= readPartitionCount(this.pool).catch((error: unknown) => {
      this.partitions = undefined;
      throw error;
    });
    // Freshness first: the metrics, read after, hold at least everything recorded before asOf.
    const freshness = await readFreshness(this.pool, query.merchantId, await this.partitions, live.version);
    const { totals, series } = await readMetrics(this.pool, live.schemaName, query, this.limits);
    return { freshness, totals, series };
  }
}
