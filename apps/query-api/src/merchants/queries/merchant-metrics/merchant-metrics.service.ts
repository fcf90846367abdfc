import type { Freshness, MetricsAnswer, MetricsQuery, ReadOptions } from '@app/merchant-metrics';
import type { LiveVersion } from '@app/projections';

/**
 * Where one GraphQL request keeps the live version it answers from. The first
 * field that needs it looks it up; the request's other fields reuse it, so a
 * promotion landing between two fields cannot make one response mix versions.
 */
export interface LiveVersionPin {
  liveVersion: Promise<LiveVersion> | undefined;
  /**
   * The merchants' data watermarks the request has read, by version and
   * merchant (MerchantWatermarkReads): read once however many fields or checks
   * of the request need them.
   */
  watermarks?: Map<string, Promise<{ watermark: string | null; freshness: Freshness }>>;
}

/**
 * What the resolver needs from the read side. The resolver depends on this
 * seam, not on SQL, so GraphQL concerns (auth, limits, error codes) stay
 * apart from reading the read model.
 */
export interface MerchantMetricsService {
  /**
   * `options.uniqueCustomers: false` when the caller does not show them (they
   * are then 0). Queries given the same `pin` answer from the same version.
   */
  query(query: MetricsQuery, options?: ReadOptions, pin?: LiveVersionPin): Promise<MetricsAnswer>;
}

export const MERCHANT_METRICS_SERVICE = Symbol('MerchantMetricsService');

