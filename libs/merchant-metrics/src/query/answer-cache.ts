import type { MetricsAnswer, MetricsQuery } from './metrics-query.js';
import type { ReadOptions } from './metrics-reader.js';

/**
 * A merchant's data watermark as the cache and the REST ETags use it: its row
 * of merchant_watermarks, or `none` without one. `none` is a watermark too: a
 * merchant gets its row with the first event applied after the table came to
 * be (a version installed before it has none until then), so its data cannot
 * change while it has none.
 */
export function dataWatermark(row: string | null | undefined): string {
  return row ?? 'none';
}

/** An answer as computed, and the merchant's data watermark it was read at. */
export interface CachedAnswer {
  watermark: string;
  answer: MetricsAnswer;
  bytes: number;
}

/** What an entry costs beyond its values: the map's entry, the answer's and freshness' objects. */
const ENTRY_OVERHEAD_BYTES = 512;
/**
 * One MetricValues in the heap (ten fields, four bigints), and a point's or a
 * series' own object beside its values: on Node 20, 200,000 points with
 * their previous values took 568 bytes each (90 + 2 × 240).
 */
const VALUES_BYTES = 240;
const OBJECT_BYTES = 90;

/** What an answer holds in the heap, estimated from its shape. */
export function estimateAnswerBytes(answer: MetricsAnswer): number {
  let bytes = ENTRY_OVERHEAD_BYTES + answer.totals.length * VALUES_BYTES;
  for (const series of answer.series) {
    bytes += OBJECT_BYTES + 2 * ((series.storeId?.length ?? 0) + (series.paymentMethod?.length ?? 0));
    for (const point of series.points) bytes += OBJECT_BYTES + (point.previous === null ? 1 : 2) * VALUES_BYTES;
  }
  return bytes;
}

/**
 * A merchant whose data changed between two asks of the same question twice
 * in a row goes uncached for 10 s, then twice as long each further time, up
 * to 5 minutes; one answer found still valid forgets it. Checking and keeping
 * the answers of a merchant whose events keep coming costs a statement and
 * bytes per ask and never saves a read (bench:query: 73% of the dashboards'
 * entries at 2,000 events/s), and those bytes evict the quiet merchants'
 * entries that would be served again.
 */
const CHURN_FIRST_SKIP_MS = 10_000;
const CHURN_MAX_SKIP_MS = 300_000;
/** Merchants whose churn is remembered, the least recently seen forgotten first. */
const CHURN_TRACKED_MERCHANTS = 10_000;

/**
 * Answers of repeated questions (a dashboard polling, many staff of one
 * merchant looking at the same page), in memory, bounded in bytes, least
 * recently used evicted first. An entry is served again only while the
 * merchant's data watermark is the one it was read at (the caller checks:
 * SqlMerchantMetricsService); keys name the live version, so another version
 * never answers from this one's entries. No entry may take more than a
 * sixteenth of the bound, so one huge answer cannot flush the rest.
 *
 * Sizes are estimated from the answer's shape (values, points, series), once,
 * when the answer is stored. Merchants whose data keeps changing are left out
 * for a while (admits; see CHURN_FIRST_SKIP_MS).
 */
export class AnswerCache {
  private readonly entries = new Map<string, CachedAnswer>();
  private held = 0;
  /** Merchants found changed between asks: how many times in a row, and until when they go uncached. */
  private readonly churn = new Map<string, { stale: number; skipUntil: number }>();

  constructor(
    readonly maxBytes: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Whether answers of `merchantId` are looked up and kept now: not while its data keeps changing. */
  admits(merchantId: string): boolean {
    const churn = this.churn.get(merchantId);
    return churn === undefined || this.clock() >= churn.skipUntil;
  }

  /** An entry of `merchantId` was found read at an older watermark than its data's. */
  noteChanged(merchantId: string): void {
    const churn = this.churn.get(merchantId) ?? { stale: 0, skipUntil: 0 };
    churn.stale++;
    if (churn.stale >= 2) churn.skipUntil = this.clock() + Math.min(CHURN_MAX_SKIP_MS, CHURN_FIRST_SKIP_MS * 2 ** (churn.stale - 2));
    this.churn.delete(merchantId);
    this.churn.set(merchantId, churn);
    if (this.churn.size > CHURN_TRACKED_MERCHANTS) this.churn.delete(this.churn.keys().next().value!);
  }

  /** An entry of `merchantId` was served again: its data is quiet now. */
  noteUnchanged(merchantId: string): void {
    this.churn.delete(merchantId);
  }

  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): CachedAnswer | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** Stores `answer`, read at `watermark`; returns false when it is too large to keep. */
  set(key: string, watermark: string, answer: MetricsAnswer): boolean {
    const bytes = 2 * key.length + estimateAnswerBytes(answer);
    this.delete(key);
    if (bytes > this.maxBytes / 16) return false;
    this.entries.set(key, { watermark, answer, bytes });
    this.held += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.held -= entry.bytes;
    }
    return true;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.held -= entry.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.held = 0;
    this.churn.clear();
  }
}

/** The cache key of a question to one version: every input that shapes the answer. */
export function answerCacheKey(version: number, query: MetricsQuery, options: ReadOptions): string {
  return JSON.stringify([
    version,
    query.merchantId,
    query.from.toISOString(),
    query.to.toISOString(),
    query.granularity,
    query.timeZone,
    query.groupBy ?? [],
    query.compareTo ?? null,
    options.uniqueCustomers ?? true,
  ]);
}
