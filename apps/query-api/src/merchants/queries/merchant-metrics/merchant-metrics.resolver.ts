import { Inject, Logger } from '@nestjs/common';
import { Args, Context, Info, Query, Resolver } from '@nestjs/graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { NoLiveVersionError, QueryRejectedError } from '@app/merchant-metrics';
import { assertMayRead } from '../../../auth/access-policy.js';
import { MERCHANT_METRICS_COST } from '../../../graphql/complexity.rule.js';
import { badUserInput, ErrorCode, graphQLError } from '../../../graphql/graphql-errors.js';
import type { QueryContext } from '../../../graphql/query-context.js';
import { QueryApiConfigRef } from '../../../infrastructure/config.provider.js';
import { isStatementTimeout } from '../../../infrastructure/query-pool.js';
import { QueryApiMetrics } from '../../../metrics/query-api.metrics.js';
import { MerchantMetricsArgs } from './merchant-metrics.args.js';
import { toMetricsQuery, toMetricsResult } from './merchant-metrics.mapper.js';
import { MERCHANT_METRICS_SERVICE, type MerchantMetricsService } from './merchant-metrics.service.js';
import { MetricsResultModel } from './metrics-result.type.js';
import { selects } from './selection.js';

/** Fields that need the customers read (the rest of the answer does not). */
const CUSTOMER_FIELDS = ['uniqueCustomers', 'uniqueCustomersExact', 'uniqueCustomersStandardError'];

@Resolver(() => MetricsResultModel)
export class MerchantMetricsResolver {
  private readonly logger = new Logger('MerchantMetrics');

  constructor(
    @Inject(MERCHANT_METRICS_SERVICE) private readonly metrics: MerchantMetricsService,
    private readonly prometheus: QueryApiMetrics,
    private readonly config: QueryApiConfigRef,
  ) {}

  @Query(() => MetricsResultModel, {
    name: 'merchantMetrics',
    complexity: MERCHANT_METRICS_COST,
    description:
      "A merchant's payment metrics over [from, to), as totals and as series bucketed by granularity in timeZone. Amounts are integer minor units per currency.",
  })
  async merchantMetrics(@Args() args: MerchantMetricsArgs, @Context() context: QueryContext, @Info() info: GraphQLResolveInfo): Promise<MetricsResultModel> {
    // Authorization before anything else: a forbidden request learns nothing, not even whether its range is valid.
    assertMayRead(context.principal, args.merchantId);
    const query = toMetricsQuery(args);
    try {
      // Counting unique customers is half of the database's work: only when they are asked for.
      const answer = await this.metrics.query(query, { uniqueCustomers: CUSTOMER_FIELDS.some((field) => selects(info, field)) }, context);
      this.prometheus.freshnessLag.set(answer.freshness.lagSeconds);
      return toMetricsResult(answer);
    } catch (error) {
      if (error instanceof QueryRejectedError) throw badUserInput(error.message);
      if (error instanceof NoLiveVersionError) throw graphQLError(ErrorCode.UNAVAILABLE, 'the metrics read model has no live version yet; retry later');
      if (isStatementTimeout(error)) {
        // The merchant gets a code to act on; operators get the question, to see what runs long.
        this.logger.warn(`statement timeout: ${query.merchantId} ${query.granularity} ${query.from.toISOString()}..${query.to.toISOString()} ${query.timeZone} groupBy [${query.groupBy.join(', ')}]`);
        throw graphQLError(
          ErrorCode.QUERY_TIMEOUT,
          `the question took longer than ${this.config.value.statementTimeoutMs} ms and was cancelled; ask for a shorter range, a coarser granularity or fewer groupBy dimensions, or retry later`,
        );
      }
      throw error;
    }
  }
}
