import type { MetricsAnswer, MetricsQuery } from '@app/merchant-metrics';

/**
 * What the resolver needs from the read side. The resolver depends on this
 * seam, not on SQL, so GraphQL concerns (auth, limits, error codes) stay
 * apart from reading the read model.
 */
export interface MerchantMetricsService {
  query(query: MetricsQuery): Promise<MetricsAnswer>;
}

export const MERCHANT_METRICS_SERVICE = Symbol('MerchantMetricsService');

