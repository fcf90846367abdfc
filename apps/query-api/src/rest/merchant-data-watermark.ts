import { dataWatermark } from '@app/merchant-metrics';
import { type LiveVersionCache } from '@app/projections';
import type { LiveVersionPin } from '../merchants/queries/merchant-metrics/merchant-metrics.service.js';
import type { MerchantWatermarkReads } from '../merchants/queries/merchant-metrics/merchant-watermark-reads.js';

/**
 * The version of one merchant's data in one read-model version: a string that
 * changes whenever anything of that merchant's read-model rows changes (an
 * event projected, a rebuild's fold). The REST API's ETags are made of it
 * (etag.ts), so it must never stay the same across a change of the data.
 */
export interface MerchantDataWatermark {
  /** Read once for the request `pin` belongs to, when given. */
  watermark(merchantId: string, liveVersion: number, pin?: LiveVersionPin): Promise<string>;
}

export const MERCHANT_DATA_WATERMARK = Symbol('MerchantDataWatermark');

/**
 * Bound until the read side has a per-merchant watermark: it reads nothing,
 * and while it is the one bound the REST API sends no ETag and ignores
 * If-None-Match (see etagsEnabled), so it is never called.
 */
export class UnimplementedMerchantDataWatermark implements MerchantDataWatermark {
  async watermark(): Promise<string> {
    throw new Error('not implemented: no per-merchant data watermark is bound to MERCHANT_DATA_WATERMARK');
  }
}

/** Whether answers get ETags: only with a real watermark. */
export function etagsEnabled(watermark: MerchantDataWatermark): boolean {
  return !(watermark instanceof UnimplementedMerchantDataWatermark);
}

/**
 * The merchant's row of merchant_watermarks in the live version (the
 * position of its latest event there, or `none`: see dataWatermark), read
 * with one small statement that the answer cache's check then reuses
 * (MerchantWatermarkReads); throws when `liveVersion` is no longer live, so
 * no tag is made of one version's watermark for another's answer.
 */
export class SqlMerchantDataWatermark implements MerchantDataWatermark {
  constructor(
    private readonly live: LiveVersionCache,
    private readonly reads: MerchantWatermarkReads,
  ) {}

  async watermark(merchantId: string, liveVersion: number, pin?: LiveVersionPin): Promise<string> {
    const live = await this.live.get();
    if (live.version !== liveVersion) throw new Error(`version ${liveVersion} is no longer live (${live.version} is)`);
    const { watermark } = await this.reads.read(live, merchantId, pin);
    return dataWatermark(watermark);
  }
}
