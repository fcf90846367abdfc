/** The query API's answer-cache counters, read from its admin port's Prometheus text. */
export interface CacheLookups {
  hits: number;
  misses: number;
  /** Questions of merchants whose data keeps changing, answered without looking up (AnswerCache.admits). */
  bypasses: number;
}

const LOOKUPS = /^query_api_answer_cache_lookups_total\{result="(hit|miss|bypass)"\} (\S+)$/gm;

/** What the cache holds: its estimated bytes and its answers (query_api_answer_cache_bytes, _entries). */
export interface CacheHeld {
  bytes: number;
  entries: number;
}

async function scrape(adminUrl: string): Promise<string> {
  const res = await fetch(`${adminUrl}/metrics`);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${adminUrl}/metrics answered HTTP ${res.status}: ${text.slice(0, 200)}`);
  return text;
}

/** Hits and misses so far (zero before the first lookup, and whenever the cache is off). */
export async function readCacheLookups(adminUrl: string): Promise<CacheLookups> {
  const text = await scrape(adminUrl);
  const lookups: CacheLookups = { hits: 0, misses: 0, bypasses: 0 };
  const field = { hit: 'hits', miss: 'misses', bypass: 'bypasses' } as const;
  for (const [, result, value] of text.matchAll(LOOKUPS)) lookups[field[result as keyof typeof field]] = Number(value);
  return lookups;
}

export async function readCacheHeld(adminUrl: string): Promise<CacheHeld> {
  const text = await scrape(adminUrl);
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { bytes: gauge('query_api_answer_cache_bytes'), entries: gauge('query_api_answer_cache_entries') };
}

/** The API's garbage collection so far (prom-client's default metrics): seconds paused, by kind, and the heap in use. */
export interface GcTimes {
  seconds: Record<string, number>;
  heapUsedBytes: number;
}

const GC = /^nodejs_gc_duration_seconds_sum\{kind="(\w+)"\} (\S+)$/gm;

export async function readGc(adminUrl: string): Promise<GcTimes> {
  const text = await scrape(adminUrl);
  const seconds: Record<string, number> = {};
  for (const [, kind, value] of text.matchAll(GC)) seconds[kind] = Number(value);
  return { seconds, heapUsedBytes: Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? 0) };
}

/** GC pauses between two readings, e.g. "major 0.41 s, minor 0.30 s". */
export function gcBetween(a: GcTimes, b: GcTimes): string {
  return Object.keys(b.seconds).map((kind) => `${kind} ${(b.seconds[kind] - (a.seconds[kind] ?? 0)).toFixed(2)} s`).join(', ');
}

export function lookupsBetween(a: CacheLookups, b: CacheLookups): CacheLookups {
  return { hits: b.hits - a.hits, misses: b.misses - a.misses, bypasses: b.bypasses - a.bypasses };
}

/** Hits over every question the cache saw (bypasses included: they are answered by a read, as misses are). */
export function hitRate(l: CacheLookups): string {
  const total = l.hits + l.misses + l.bypasses;
  const n = (value: number) => value.toLocaleString('en-US');
  return total === 0 ? 'no lookups' : `${((100 * l.hits) / total).toFixed(1)}% (${n(l.hits)} hits, ${n(l.misses)} misses, ${n(l.bypasses)} bypassed)`;
}
