import type pg from 'pg';
import { AnswerCache, answerCacheKey, PROJECTION_NAME, dataWatermark, queryLimits, readMetricsWithFreshness, validateQuery, type MetricsAnswer, type MetricsQuery, type QueryLimits, type ReadOptions } from '@app/merchant-metrics';
import { LiveVersionCache, type SqlClient } from '@app/projections';
import type { LiveVersionPin, MerchantMetricsService } from './merchant-metrics.service.js';
import { MerchantWatermarkReads, type MerchantWatermarkRead } from './merchant-watermark-reads.js';

/**
 * QUERY_MAX_BUCKETS, QUERY_MAX_RANGE_DAYS (and _QUARTER, _YEAR) and
 * QUERY_MAX_SERIES as the reader's limits; what is not given takes the
 * reader's defaults. QUERY_MAX_RANGE_DAYS bounds DAY, WEEK and MONTH; hourly
 * answers read 15-minute rows, and the reader's own, tighter bound for them
 * stays in force.
 */
export function readerLimits(config: {
  maxBuckets: number;
  maxRangeDays: number;
  maxSeries?: number;
  maxRangeDaysQuarter?: number;
  maxRangeDaysYear?: number;
}): QueryLimits {
  const maxRangeDays = queryLimits({ maxRangeDays: config.maxRangeDays }).maxRangeDays;
  return queryLimits({
    maxBuckets: config.maxBuckets,
    maxSeries: config.maxSeries,
    maxRangeDays: { ...maxRangeDays, QUARTER: config.maxRangeDaysQuarter ?? maxRangeDays.QUARTER, YEAR: config.maxRangeDaysYear ?? maxRangeDays.YEAR },
  });
}

/**
 * Answers from the live version of the merchant-metrics read model. The live
 * pointer is cached briefly (a promotion is seen within half a second) and
 * held for the whole request by the caller's LiveVersionPin; the event store's
 * partition count is read once (MerchantWatermarkReads.partitionCount). Metrics
 * and freshness come from one statement (readMetricsWithFreshness) sent
 * through `statements`: the pool itself by default, a PreparedStatementClient
 * in the app.
 */
export class SqlMerchantMetricsService implements MerchantMetricsService {
  /** The version the cache's entries were read from: another one empties it. */
  private cachedVersion: number | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly limits: QueryLimits,
    private readonly statements: SqlClient = pool,
    private readonly live = new LiveVersionCache(pool, PROJECTION_NAME),
    private readonly cache?: AnswerCache,
    private readonly observer?: AnswerCacheObserver,
    private readonly watermarks = new MerchantWatermarkReads(pool, statements),
  ) {}

  async query(query: MetricsQuery, options: ReadOptions = {}, pin?: LiveVersionPin): Promise<MetricsAnswer> {
    // A bad query is the caller's mistake whatever state the read model is in: check it first.
    validateQuery(query, this.limits);
    // Pinned only once validated: a look-up nobody awaits could reject unhandled.
    const live = await (pin === undefined ? this.live.get() : (pin.liveVersion ??= this.live.get()));
    const partitions = await this.watermarks.partitionCount();
    if (this.cache === undefined) return readMetricsWithFreshness(this.statements, live, partitions, query, this.limits, options);
    if (this.cachedVersion !== live.version) {
      // A promotion or rollback: nothing read from the other version is of use.
      this.cache.clear();
      this.cachedVersion = live.version;
    }
    if (!this.cache.admits(query.merchantId)) {
      // Its data keeps changing: neither checked nor kept for now.
      this.observer?.bypass();
      return readMetricsWithFreshness(this.statements, live, partitions, query, this.limits, options);
    }
    const key = answerCacheKey(live.version, query, options);
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      // Served again only while the merchant's data is what it was: one small statement (shared by the request) instead of the query.
      const now = await this.watermarks.read(live, query.merchantId, pin).catch((): MerchantWatermarkRead | undefined => undefined);
      if (now !== undefined && dataWatermark(now.watermark) === cached.watermark) {
        this.cache.noteUnchanged(query.merchantId);
        this.observer?.hit();
        return { ...cached.answer, freshness: now.freshness, watermark: now.watermark };
      }
      this.cache.delete(key);
      if (now !== undefined) this.cache.noteChanged(query.merchantId);
    }
    this.observer?.miss();
    // The reader refuses an answer over the series cap while it groups the rows, before building its points.
    const answer = await readMetricsWithFreshness(this.statements, live, partitions, query, this.limits, options);
    // The watermark comes from the answer's own snapshot; a merchant found changed twice in a row is not kept.
    if (this.cache.admits(query.merchantId)) this.cache.set(key, dataWatermark(answer.watermark), answer);
    this.observer?.stored(this.cache.bytes, this.cache.size);
    return answer;
  }
}

/** Counts for /metrics: hits, misses, and what the cache holds. */
export interface AnswerCacheObserver {
  hit(): void;
  miss(): void;
  /** A question of a merchant whose data keeps changing, answered without the cache (AnswerCache.admits). */
  bypass(): void;
  stored(bytes: number, entries: number): void;
}
