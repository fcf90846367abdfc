import { createHash } from 'node:crypto';
import type { MetricsQuery } from '@app/merchant-metrics';

/**
 * The ETag of an answer: a hash of the live read-model version, the
 * merchant's data watermark and the question. Weak (`W/"…"`): two answers
 * with the same tag hold the same metrics but not the same bytes, since each
 * says how fresh it is (freshness.asOf and lagSeconds move on with the clock
 * while the data stands still), and RFC 9110 keeps strong tags for identical
 * bytes. If-None-Match compares weakly, so 304s work the same.
 */
export function etagOf(parts: { liveVersion: number; watermark: string; query: string }): string {
  const digest = createHash('sha256').update(JSON.stringify([parts.liveVersion, parts.watermark, parts.query])).digest('base64url');
  return `W/"${digest}"`;
}

/**
 * The question as the ETag's `query`: every field of the MetricsQuery in one
 * spelling (instants in UTC), after the revision of the answer's format, so
 * that a deployment that changes what an answer holds changes every tag.
 */
export function etagQuery(query: MetricsQuery, answerRevision: string): string {
  return JSON.stringify([answerRevision, query.merchantId, query.from.toISOString(), query.to.toISOString(), query.granularity, query.timeZone, query.groupBy, query.compareTo ?? null]);
}

const ENTITY_TAG = /(?:W\/)?"([\x21\x23-\x7e\x80-\xff]*)"/g;

/**
 * If-None-Match's weak comparison (RFC 9110, 13.1.2): true when the header is
 * `*` or lists the tag, weak or strong, by its opaque part.
 */
export function noneMatchFails(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  for (const match of ifNoneMatch.matchAll(ENTITY_TAG)) if (`"${match[1]}"` === opaque) return true;
  return false;
}
