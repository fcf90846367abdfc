import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore, partitionOf, readPartition, readPartitionCount } from '@app/event-store';
import { applyEvents, merchantMetricsLogic, PROJECTION_NAME, type ProjectionTarget, merchantMetricsProjection } from '@app/merchant-metrics';
import { goLiveIfFirst, installVersion, LiveVersionCache, readCheckpoint, type PaymentEventJson } from '@app/projections';
import { asStoredTotals, expectedTotals, generateEvents } from '../../../libs/merchant-metrics/src/testing/index.js';
import { newEventOf } from '../../../libs/projections/src/testing/new-events.js';
import { MerchantWatermarkReads } from './merchants/queries/merchant-metrics/merchant-watermark-reads.js';
import type { LiveVersionPin } from './merchants/queries/merchant-metrics/merchant-metrics.service.js';
import { startQueryApiHarness, type QueryApiHarness } from './testing/query-api-harness.js';

const QUERY = `query Q($m: ID!) {
  merchantMetrics(merchantId: $m, from: "2026-10-01T00:00:00Z", to: "2026-10-15T00:00:00Z", granularity: DAY, timeZone: "Asia/Tokyo") {
    freshness { version }
    totals { currency transactionCount grossAmount refundCount refundAmount failedCount uniqueCustomers }
    series { currency points { start values { transactionCount grossAmount } } }
  }
}`;
const window = { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-10-15T00:00:00Z') };

/**
 * The answer cache against the real query API and PostgreSQL, with the read
 * model written by the projector's own apply path (which keeps the merchants'
 * watermarks): a repeated question is a hit while the merchant's data is
 * unchanged, even when other merchants of its partition move the checkpoint,
 * and a miss with the new figures once its own data changed.
 */
describe('answer cache', () => {
  let h: QueryApiHarness;
  let store: EventStore;
  let partitions: number;
  let target: ProjectionTarget;
  const events = generateEvents({ seed: 41, count: 3000, merchants: 60, merchantPrefix: 'ac-', ...window });
  let quiet: string;
  let busy: string;
  let churning: string;

  /** Stores events, then applies what the store holds after the checkpoint of each partition touched. */
  async function ingest(batch: PaymentEventJson[]): Promise<void> {
    await store.append(batch.map(newEventOf));
    const client = await h.pool.connect();
    try {
      for (const partition of new Set(batch.map((e) => partitionOf(e.merchantId, partitions)))) {
        const checkpoint = await readCheckpoint(client, PROJECTION_NAME, 3, partition);
        const rows = await readPartition(client, partition, checkpoint, 1_000_000);
        const positioned = rows.map((r) => ({ position: r.position, recordedAt: r.recordedAt, event: JSON.parse(r.payloadJson) as PaymentEventJson }));
        await applyEvents(client, target, partition, checkpoint, positioned);
      }
    } finally {
      client.release();
    }
  }

  const lookups = async () => {
    const text = await (await fetch(`${h.adminUrl}/metrics`)).text();
    const count = (result: string) => Number(new RegExp(`^query_api_answer_cache_lookups_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { hits: count('hit'), misses: count('miss') };
  };
  const ask = async (merchantId: string) => {
    const res = await h.graphql(QUERY, { m: merchantId });
    expect(res.body.errors).toBeUndefined();
    return (res.body.data as { merchantMetrics: { totals: unknown[]; series: unknown[] } }).merchantMetrics;
  };
  const expectedFor = (merchantId: string, all: PaymentEventJson[]) =>
    [...asStoredTotals(expectedTotals(all.filter((e) => e.merchantId === merchantId)))].map(([key, t]) => ({ key, ...t }));

  beforeAll(async () => {
    h = await startQueryApiHarness({ QUERY_CACHE_MB: '4' });
    partitions = await readPartitionCount(h.pool);
    store = new EventStore(h.pool, partitions);
    const client = await h.pool.connect();
    try {
      const installed = await installVersion(client, merchantMetricsProjection, { version: 3, partitions, codeRevision: 'test' });
      await goLiveIfFirst(client, PROJECTION_NAME, 3);
      target = { projection: PROJECTION_NAME, version: 3, schemaName: installed.schemaName, engine: installed.engine, logic: merchantMetricsLogic(3) };
    } finally {
      client.release();
    }
    // Two merchants of one partition: a batch of one moves the checkpoint the other's answers are read at.
    const merchants = [...new Set(events.map((e) => e.merchantId))];
    const byPartition = new Map<number, string[]>();
    for (const m of merchants) byPartition.set(partitionOf(m, partitions), [...(byPartition.get(partitionOf(m, partitions)) ?? []), m]);
    [quiet, busy] = [...byPartition.values()].find((ms) => ms.length >= 2)!;
    churning = merchants.find((m) => m !== quiet && m !== busy)!;
    await ingest(events);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers a repeated question from the cache while the merchant’s data is unchanged, and reads again once it changed', async () => {
    const before = await lookups();
    const first = await ask(quiet);
    const second = await ask(quiet);
    expect(second).toEqual(first);
    expect(await lookups()).toEqual({ hits: before.hits + 1, misses: before.misses + 1 });
    const busyFirst = await ask(busy);

    // New events of `busy` only, in `quiet`'s partition: its checkpoint moves, `quiet`'s watermark does not.
    const more = generateEvents({ seed: 42, count: 400, merchants: 60, merchantPrefix: 'ac-', ...window }).filter((e) => e.merchantId === busy);
    expect(more.length).toBeGreaterThan(0);
    const { rows } = await h.pool.query<{ position: string }>(
      `select position from projections.checkpoints where projection = $1 and version = 3 and partition = $2`, [PROJECTION_NAME, partitionOf(quiet, partitions)]);
    await ingest(more);
    const moved = await h.pool.query<{ position: string }>(
      `select position from projections.checkpoints where projection = $1 and version = 3 and partition = $2`, [PROJECTION_NAME, partitionOf(quiet, partitions)]);
    expect(Number(moved.rows[0]!.position)).toBe(Number(rows[0]!.position) + more.length);

    const mid = await lookups();
    expect(await ask(quiet)).toEqual(first);
    const busySecond = await ask(busy);
    expect(await lookups()).toEqual({ hits: mid.hits + 1, misses: mid.misses + 1 });
    expect(busySecond).not.toEqual(busyFirst);

    // Exact figures both ways, computed from the events alone.
    const totalsOf = (answer: { totals: unknown[] }) =>
      (answer.totals as Array<{ currency: string; transactionCount: number; grossAmount: string; refundCount: number; refundAmount: string; failedCount: number; uniqueCustomers: number }>)
        .map((t) => ({ currency: t.currency, completed: t.transactionCount, gross: t.grossAmount, refunds: t.refundCount, refunded: t.refundAmount, failed: t.failedCount, customers: t.uniqueCustomers }));
    const stored = (merchantId: string, all: PaymentEventJson[]) => expectedFor(merchantId, all).map(({ key, gross, refunded, ...t }) => ({
      currency: key.split('/')[1], completed: t.completed, gross: String(gross), refunds: t.refunds, refunded: String(refunded), failed: t.failed, customers: t.customers,
    }));
    expect(totalsOf(first)).toEqual(stored(quiet, events));
    expect(totalsOf(busySecond)).toEqual(stored(busy, [...events, ...more]));
  });

  it('keeps each merchant’s answers apart, and never serves another question’s answer', async () => {
    const tokyo = await ask(quiet);
    const other = await h.graphql(QUERY.replace('Asia/Tokyo', 'UTC'), { m: quiet });
    expect(other.body.errors).toBeUndefined();
    expect((other.body.data as { merchantMetrics: unknown }).merchantMetrics).not.toEqual(tokyo);
    expect(await ask(busy)).not.toEqual(tokyo);
  });

  it('leaves a merchant whose data changed between asks twice in a row out of the cache, with its answers still exact', async () => {
    let all = events;
    let seed = 50;
    const changeChurning = async () => {
      const more = generateEvents({ seed: seed++, count: 600, merchants: 60, merchantPrefix: 'ac-', ...window }).filter((e) => e.merchantId === churning);
      expect(more.length).toBeGreaterThan(0);
      await ingest(more);
      all = [...all, ...more];
    };
    const totalsOf = async () => {
      const answer = await ask(churning);
      return (answer.totals as Array<{ currency: string; transactionCount: number; grossAmount: string }>).map((t) => [t.currency, t.transactionCount, t.grossAmount]);
    };
    const expected = () => expectedFor(churning, all).map(({ key, completed, gross }) => [key.split('/')[1], completed, String(gross)]);
    const bypasses = async () => Number(/^query_api_answer_cache_lookups_total\{result="bypass"\} (\d+)/m.exec(await (await fetch(`${h.adminUrl}/metrics`)).text())?.[1] ?? 0);

    const start = { ...(await lookups()), bypasses: await bypasses() };
    expect(await totalsOf()).toEqual(expected()); // miss, kept
    await changeChurning();
    expect(await totalsOf()).toEqual(expected()); // found changed once: miss, kept again
    await changeChurning();
    expect(await totalsOf()).toEqual(expected()); // changed twice in a row: miss, not kept
    expect(await lookups()).toEqual({ hits: start.hits, misses: start.misses + 3 });
    expect(await bypasses()).toBe(start.bypasses);
    // Now neither looked up nor kept for 10 s, whether or not its data changes.
    expect(await totalsOf()).toEqual(expected());
    await changeChurning();
    expect(await totalsOf()).toEqual(expected());
    expect(await lookups()).toEqual({ hits: start.hits, misses: start.misses + 3 });
    expect(await bypasses()).toBe(start.bypasses + 2);
    // Other merchants are not affected.
    const before = await lookups();
    await ask(quiet);
    expect((await lookups()).hits + (await lookups()).misses).toBe(before.hits + before.misses + 1);
  });

  it('reads a merchant’s watermark once per request however often it is asked, and once for requests asking at the same time', async () => {
    const statements: string[] = [];
    const counting = { query: <R,>(text: string, values?: unknown[]) => {
      if (text.includes('merchant_watermarks')) statements.push(text);
      return h.pool.query(text, values) as unknown as Promise<{ rows: R[] }>;
    } };
    const reads = new MerchantWatermarkReads(h.pool, counting);
    const live = await new LiveVersionCache(h.pool, PROJECTION_NAME).get();
    const { rows } = await h.pool.query<{ position: string }>(`select position::text from ${live.schemaName}.merchant_watermarks where merchant_id = $1`, [quiet]);
    expect(rows).toHaveLength(1);

    const pin: LiveVersionPin = { liveVersion: Promise.resolve(live) };
    const first = await reads.read(live, quiet, pin);
    expect(first.watermark).toBe(rows[0]!.position);
    expect((await reads.read(live, quiet, pin)).watermark).toBe(rows[0]!.position);
    expect((await reads.read(live, quiet, pin)).freshness).toEqual(first.freshness);
    expect(statements).toHaveLength(1);
    // Another merchant in the same request is its own read.
    expect((await reads.read(live, busy, pin)).watermark).not.toBeNull();
    expect(statements).toHaveLength(2);

    // Five requests at once: one statement; once it settled, the next request reads again.
    const together = await Promise.all(Array.from({ length: 5 }, () => reads.read(live, quiet, { liveVersion: undefined })));
    expect(new Set(together.map((r) => r.watermark))).toEqual(new Set([rows[0]!.position]));
    expect(statements).toHaveLength(3);
    await reads.read(live, quiet, { liveVersion: undefined });
    expect(statements).toHaveLength(4);
  });
});
