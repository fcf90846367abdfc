import type { MetricsAnswer, MetricsQuery, ReadOptions } from '@app/merchant-metrics';

/**
 * What the resolver needs from the read side. The resolver depends on this
 * seam, not on SQL, so GraphQL concerns (auth, limits, error codes) stay
 * apart from reading the read model.
 */
export interface MerchantMetricsService {
  /** `options.uniqueCustomers: false` when the caller does not show them (they are then 0). */
  query(query: MetricsQuery, options?: ReadOptions): Promise<MetricsAnswer>;
}

export const MERCHANT_METRICS_SERVICE = Symbol('MerchantMetricsService');

