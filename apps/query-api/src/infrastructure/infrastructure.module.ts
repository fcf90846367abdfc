import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type pg from 'pg';
import { MERCHANT_METRICS_SERVICE } from '../merchants/queries/merchant-metrics/merchant-metrics.service.js';
import { readerLimits, SqlMerchantMetricsService } from '../merchants/queries/merchant-metrics/sql-merchant-metrics.service.js';
import { QueryApiConfigRef } from './config.provider.js';
import { PreparedStatementClient } from '@app/database';
import { AnswerCache } from '@app/merchant-metrics';
import { QueryApiMetrics } from '../metrics/query-api.metrics.js';
import { createQueryPool } from './query-pool.js';
import { MerchantWatermarkReads } from '../merchants/queries/merchant-metrics/merchant-watermark-reads.js';
import { LIVE_VERSION_CACHE, MERCHANT_WATERMARK_READS, PG_POOL, type LiveVersionCacheFactory } from './tokens.js';

/** Closes the pool after the HTTP server has drained (onApplicationShutdown runs after it). */
class Lifecycle implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

/** The process's database pool and the read side behind the resolvers. */
@Global()
@Module({
  providers: [
    {
      provide: PG_POOL,
      inject: [QueryApiConfigRef],
      useFactory: (config: QueryApiConfigRef) => createQueryPool(config.value),
    },
    {
      provide: MERCHANT_WATERMARK_READS,
      inject: [PG_POOL],
      useFactory: (pool: pg.Pool) => new MerchantWatermarkReads(pool, new PreparedStatementClient(pool)),
    },
    {
      provide: MERCHANT_METRICS_SERVICE,
      inject: [PG_POOL, QueryApiConfigRef, LIVE_VERSION_CACHE, QueryApiMetrics, MERCHANT_WATERMARK_READS],
      useFactory: (pool: pg.Pool, config: QueryApiConfigRef, liveVersionCache: LiveVersionCacheFactory, metrics: QueryApiMetrics, watermarks: MerchantWatermarkReads) => {
        const bytes = config.value.answerCacheBytes;
        const observer = {
          hit: () => metrics.answerCacheLookups.inc({ result: 'hit' }),
          miss: () => metrics.answerCacheLookups.inc({ result: 'miss' }),
          bypass: () => metrics.answerCacheLookups.inc({ result: 'bypass' }),
          stored: (held: number, entries: number) => {
            metrics.answerCacheBytes.set(held);
            metrics.answerCacheEntries.set(entries);
          },
        };
        const cache = bytes > 0 ? new AnswerCache(bytes) : undefined;
        return new SqlMerchantMetricsService(pool, readerLimits(config.value), new PreparedStatementClient(pool), liveVersionCache(pool), cache, observer, watermarks);
      },
    },
    Lifecycle,
  ],
  exports: [PG_POOL, MERCHANT_METRICS_SERVICE, MERCHANT_WATERMARK_READS],
})
export class InfrastructureModule {}
