import type pg from 'pg';
import type { LiveVersionCache } from '@app/projections';

/** Injection tokens for values that are not classes. */
export const PG_POOL = Symbol('QueryPool');
/** A LiveVersionCacheFactory: makes the query path's cache of the live version. */
export const LIVE_VERSION_CACHE = Symbol('LiveVersionCacheFactory');

export type LiveVersionCacheFactory = (pool: pg.Pool) => LiveVersionCache;
/** The process's one MerchantWatermarkReads: the cache and the REST ETags share its reads. */
export const MERCHANT_WATERMARK_READS = Symbol('MerchantWatermarkReads');
