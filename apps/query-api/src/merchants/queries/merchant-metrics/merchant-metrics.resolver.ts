import { Inject, Logger } from '@nestjs/common';
import { Args, Context, Info, Query, Resolver } from '@nestjs/graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { assertMayRead } from '../../../auth/access-policy.js';
import { MERCHANT_METRICS_COST } from '../../../graphql/complexity.rule.js';
import { metricsFailureOf } from '../../../errors/metrics-failure.js';
import { graphQLError } from '../../../graphql/graphql-errors.js';
import type { QueryContext } from '../../../graphql/query-context.js';
import { QueryApiConfigRef } from '../../../infrastructure/config.provider.js';
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
      // The same codes and messages as the REST API's problems.
      const failure = metricsFailureOf(error, query, this.config.value.statementTimeoutMs, this.logger);
      if (failure !== undefined) throw graphQLError(failure.code, failure.message);
      throw error;
    }
  }
}
