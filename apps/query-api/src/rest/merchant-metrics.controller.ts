import { Controller, Get, Inject, Logger, Param, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { validateQuery, type MetricsQuery, type QueryLimits } from '@app/merchant-metrics';
import { type LiveVersionCache } from '@app/projections';
import { readRefusal } from '../auth/access-policy.js';
import { ErrorCode } from '../errors/error-codes.js';
import { metricsFailureOf } from '../errors/metrics-failure.js';
import '../graphql/query-context.js';
import { QueryApiConfigRef } from '../infrastructure/config.provider.js';
import { LIVE_VERSION_CACHE, PG_POOL, type LiveVersionCacheFactory } from '../infrastructure/tokens.js';
import { toMetricsQuery, toMetricsResult } from '../merchants/queries/merchant-metrics/merchant-metrics.mapper.js';
import { MERCHANT_METRICS_SERVICE, type LiveVersionPin, type MerchantMetricsService } from '../merchants/queries/merchant-metrics/merchant-metrics.service.js';
import { readerLimits } from '../merchants/queries/merchant-metrics/sql-merchant-metrics.service.js';
import { QueryApiMetrics } from '../metrics/query-api.metrics.js';
import { etagOf, etagQuery, noneMatchFails } from './etag.js';
import { etagsEnabled, MERCHANT_DATA_WATERMARK, type MerchantDataWatermark } from './merchant-data-watermark.js';
import { MetricsApiContract } from './metrics-api-contract.js';
import { PROBLEM_TYPES, Problem, problemTypeOf } from './problem.js';
import { ProblemFilter } from './problem.filter.js';
import { METRICS_ROUTE } from './rest-paths.js';

/**
 * Kept by the client (private: never by a shared cache, the answer is one
 * merchant's), revalidated before every use (no-cache): the answer changes
 * with every payment the merchant records, and with an ETag revalidating is
 * a 304 that reads no metrics.
 */
export const ANSWER_CACHE_CONTROL = 'private, no-cache';

/**
 * GET /v1/merchants/{merchantId}/metrics: GraphQL's merchantMetrics over
 * plain HTTP, from the same code. The request is authenticated before it gets
 * here (rest-authentication.hook.ts); then, as in the resolver, authorization
 * first, the question's arguments mapped by toMetricsQuery, answered by
 * MERCHANT_METRICS_SERVICE (same limits, same cache) and mapped by
 * toMetricsResult, failures told as metricsFailureOf says.
 */
@Controller()
@UseFilters(ProblemFilter)
export class MerchantMetricsController {
  private readonly logger = new Logger('MerchantMetrics');
  private readonly limits: QueryLimits;
  /** Set only when a real watermark is bound: then answers have ETags. */
  private readonly live: LiveVersionCache | undefined;
  /** When a failing watermark was last logged: once a minute is enough to see it, every request would flood the log. */
  private watermarkWarnedAt = -Infinity;
  private watermarkFailures = 0;

  constructor(
    @Inject(MERCHANT_METRICS_SERVICE) private readonly metrics: MerchantMetricsService,
    @Inject(MERCHANT_DATA_WATERMARK) private readonly watermarks: MerchantDataWatermark,
    @Inject(LIVE_VERSION_CACHE) liveVersionCache: LiveVersionCacheFactory,
    @Inject(PG_POOL) pool: pg.Pool,
    private readonly contract: MetricsApiContract,
    private readonly prometheus: QueryApiMetrics,
    private readonly config: QueryApiConfigRef,
  ) {
    this.limits = readerLimits(config.value);
    // The tag names a live version, and the answer is then pinned to that very version.
    this.live = etagsEnabled(watermarks) ? liveVersionCache(pool) : undefined;
  }

  @Get(METRICS_ROUTE)
  async merchantMetrics(@Param('merchantId') merchantId: string, @Query() parameters: unknown, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // Authorization before anything else: a forbidden request learns nothing, not even whether its parameters are valid.
    const refusal = readRefusal(request.principal!, merchantId);
    if (refusal !== undefined) throw new Problem(PROBLEM_TYPES.forbidden, refusal);
    const contract = this.contract.value;
    const query = toMetricsQuery(contract.parser.parse(merchantId, parameters));
    const pin: LiveVersionPin = { liveVersion: undefined };
    try {
      let etag: string | undefined;
      if (this.live !== undefined) {
        // Judged before any 304: no tag makes a question valid.
        validateQuery(query, this.limits);
        const live = await this.live.get();
        pin.liveVersion = Promise.resolve(live);
        // Read before the answer: a change landing in between leaves the tag older than the answer, which costs a 200 later, never a wrong 304.
        etag = await this.etagOf(query, live.version, contract.revision, pin);
        if (etag !== undefined && noneMatchFails(request.headers['if-none-match'], etag)) {
          await reply.code(304).headers({ etag, 'cache-control': ANSWER_CACHE_CONTROL }).send();
          return;
        }
      }
      const answer = await this.metrics.query(query, { uniqueCustomers: true }, pin);
      this.prometheus.freshnessLag.set(answer.freshness.lagSeconds);
      const body = contract.serialize(toMetricsResult(answer));
      await reply
        .code(200)
        .headers({ 'content-type': 'application/json; charset=utf-8', 'cache-control': ANSWER_CACHE_CONTROL, ...(etag !== undefined ? { etag } : {}) })
        .send(body);
    } catch (error) {
      const failure = metricsFailureOf(error, query, this.config.value.statementTimeoutMs, this.logger);
      if (failure === undefined) throw error;
      throw new Problem(problemTypeOf(failure.code), failure.message, failure.code === ErrorCode.UNAVAILABLE ? { 'retry-after': '5' } : {});
    }
  }

  /** The answer's tag, or none when the watermark cannot be read: the answer is still given, only not as revalidatable. */
  private async etagOf(query: MetricsQuery, liveVersion: number, revision: string, pin: LiveVersionPin): Promise<string | undefined> {
    try {
      const watermark = await this.watermarks.watermark(query.merchantId, liveVersion, pin);
      return etagOf({ liveVersion, watermark, query: etagQuery(query, revision) });
    } catch (error) {
      this.watermarkFailures++;
      if (Date.now() - this.watermarkWarnedAt >= 60_000) {
        this.logger.warn(`answers go without ETag: the data watermark could not be read ${this.watermarkFailures} time(s) since the last warning, lately for ${query.merchantId} (${(error as Error).message})`);
        this.watermarkWarnedAt = Date.now();
        this.watermarkFailures = 0;
      }
      return undefined;
    }
  }
}
