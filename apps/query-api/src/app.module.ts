import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { ReadinessProbe } from '@app/monitoring';
import type pg from 'pg';
import { AdminListener } from './admin/admin-listener.js';
import { RevocationList, RevocationListLifecycle } from './auth/revocation-list.js';
import { graphqlOptions } from './graphql/graphql-options.js';
import { GraphQLErrorPassthrough } from './graphql/graphql-error.filter.js';
import { DrainState } from './health/drain-state.js';
import { HealthController } from './health/health.controller.js';
import { queryApiReadiness } from './health/readiness.js';
import { QueryApiConfigRef, type QueryApiSettings } from './infrastructure/config.provider.js';
import { InfrastructureModule } from './infrastructure/infrastructure.module.js';
import { LIVE_VERSION_CACHE, MERCHANT_WATERMARK_READS, PG_POOL, type LiveVersionCacheFactory } from './infrastructure/tokens.js';
import type { MerchantWatermarkReads } from './merchants/queries/merchant-metrics/merchant-watermark-reads.js';
import { MerchantMetricsResolver } from './merchants/queries/merchant-metrics/merchant-metrics.resolver.js';
import { PaymentsResolver } from './merchants/queries/merchant-payments/payments.resolver.js';
import { PaymentsService } from './merchants/queries/merchant-payments/payments.service.js';
import { PaymentsController } from './rest/payments.controller.js';
import { QueryApiMetrics } from './metrics/query-api.metrics.js';
import { MERCHANT_DATA_WATERMARK, SqlMerchantDataWatermark, type MerchantDataWatermark } from './rest/merchant-data-watermark.js';
import { MerchantMetricsController } from './rest/merchant-metrics.controller.js';
import { MetricsApiContract } from './rest/metrics-api-contract.js';
import { OpenApiController } from './rest/openapi.controller.js';
import { RestFallbackController } from './rest/rest-fallback.controller.js';

@Module({})
export class QueryApiModule {
  static forConfig(config: QueryApiSettings, shared: { drain: DrainState; metrics: QueryApiMetrics; liveVersionCache: LiveVersionCacheFactory; revocations: RevocationList; merchantDataWatermark?: MerchantDataWatermark }): DynamicModule {
    const configRef = { provide: QueryApiConfigRef, useValue: new QueryApiConfigRef(config) };
    const liveVersionCache = { provide: LIVE_VERSION_CACHE, useValue: shared.liveVersionCache };
    return {
      module: QueryApiModule,
      global: true,
      imports: [InfrastructureModule, GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, ...graphqlOptions(config) })],
      // REST (GET /v1/...) beside GraphQL: the same service, authentication and limits.
      controllers: [HealthController, MerchantMetricsController, PaymentsController, OpenApiController, RestFallbackController],
      providers: [
        configRef,
        liveVersionCache,
        { provide: DrainState, useValue: shared.drain },
        { provide: QueryApiMetrics, useValue: shared.metrics },
        { provide: RevocationList, useValue: shared.revocations },
        RevocationListLifecycle,
        { provide: APP_FILTER, useClass: GraphQLErrorPassthrough },
        MerchantMetricsResolver,
        PaymentsService,
        PaymentsResolver,
        MetricsApiContract,
        // Until a per-merchant watermark is bound here, REST answers carry no ETag.
        {
          provide: MERCHANT_DATA_WATERMARK,
          inject: [PG_POOL, LIVE_VERSION_CACHE, MERCHANT_WATERMARK_READS],
          useFactory: (pool: pg.Pool, live: LiveVersionCacheFactory, reads: MerchantWatermarkReads) =>
            shared.merchantDataWatermark ?? new SqlMerchantDataWatermark(live(pool), reads),
        },
        { provide: ReadinessProbe, inject: [PG_POOL], useFactory: (pool: pg.Pool) => queryApiReadiness(pool, config) },
        AdminListener,
      ],
      exports: [configRef, liveVersionCache, QueryApiMetrics],
    };
  }
}
