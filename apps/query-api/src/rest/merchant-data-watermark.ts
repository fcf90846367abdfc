import type pg from 'pg';
import { readPartitionCount } from '@app/event-store';
import { dataWatermark, readMerchantWatermark, type LiveVersionCache, type SqlClient } from '@app/merchant-metrics';

/**
 * The version of one merchant's data in one read-model version: a string that
 * changes whenever anything of that merchant's read-model rows changes (an
 * event projected, a rebuild's fold). The REST API's ETags are made of it
 * (etag.ts), so it must never stay the same across a change of the data.
 */
export interface MerchantDataWatermark {
  watermark(merchantId: string, liveVersion: number): Promise<string>;
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
 * with one small statement; throws when `liveVersion` is no longer live, so
 * no tag is made of one version's watermark for another's answer.
 */
export class SqlMerchantDataWatermark implements MerchantDataWatermark {
  private partitions: Promise<number> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly statements: SqlClient,
    private readonly live: LiveVersionCache,
  ) {}

  async watermark(merchantId: string, liveVersion: number): Promise<string> {
    const live = await this.live.get();
    if (live.version !== liveVersion) throw new Error(`version ${liveVersion} is no longer live (${live.version} is)`);
    this.partitions ??= readPartitionCount(this.pool).catch((error: unknown) => {
      this.partitions = undefined;
      throw error;
    });
    const { watermark } = await readMerchantWatermark(this.statements, live, await this.partitions, merchantId);
    return dataWatermark(watermark);
  }
}
