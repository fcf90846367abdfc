import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { partitionOf, readPartitionCount } from '@app/event-store';
import { applyEvents, merchantMetricsLogic, PROJECTION_NAME, merchantMetricsProjection } from '@app/merchant-metrics';
import { installVersion, promoteVersion, readCheckpoint } from '@app/projections';
import { startQueryApiHarness, type QueryApiHarness } from '../testing/query-api-harness.js';
import type { MerchantDataWatermark } from './merchant-data-watermark.js';
import { fillReadModel, MERCHANT, metricsPath, rest } from './testing/rest-client.js';

const DAY = { from: '2026-03-08T05:00:00Z', to: '2026-03-09T05:00:00Z', granularity: 'DAY' };
const WEAK_TAG = /^W\/"[A-Za-z0-9_-]{43}"$/;

/**
 * A watermark the test sets by hand, standing in for the read side's: what
 * matters here is what the REST API does with one, not how it is kept.
 */
class SetWatermark implements MerchantDataWatermark {
  readonly marks = new Map<string, string>();
  readonly asked: Array<[string, number]> = [];
  failing = false;

  async watermark(merchantId: string, liveVersion: number): Promise<string> {
    this.asked.push([merchantId, liveVersion]);
    if (this.failing) throw new Error('watermark unreadable');
    return this.marks.get(merchantId) ?? 'w-0';
  }
}

describe("ETags from the read model's own merchant watermark (the default)", () => {
  let h: QueryApiHarness;
  beforeAll(async () => {
    h = await startQueryApiHarness();
    await fillReadModel(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers 304 while the merchant's data is unchanged, even as another merchant's events move the checkpoint, and a new tag once the merchant's own are applied", async () => {
    const first = await rest(h, metricsPath(MERCHANT, DAY));
    const etag = first.headers.get('etag')!;
    expect([first.status, first.headers.get('cache-control')]).toEqual([200, 'private, no-cache']);
    expect(etag).toMatch(WEAK_TAG);
    expect((await rest(h, metricsPath(MERCHANT, DAY), { headers: { 'if-none-match': etag } })).status).toBe(304);

    // Events applied through the projector's own path, which keeps the merchants' watermarks.
    const partitions = await readPartitionCount(h.pool);
    const target = { projection: PROJECTION_NAME, version: 1, schemaName: 'rm_merchant_metrics_v1', engine: 'postgres' as const, logic: merchantMetricsLogic(1) };
    const apply = async (merchantId: string) => {
      const partition = partitionOf(merchantId, partitions);
      const client = await h.pool.connect();
      try {
        const checkpoint = await readCheckpoint(client, PROJECTION_NAME, 1, partition);
        const event = {
          eventId: randomUUID(), merchantId, occurredAt: '2026-03-08T12:00:00Z',
          paymentCompleted: { paymentId: `p-${randomUUID()}`, customerId: 'c-77', storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'USD', minorUnits: '700' } },
        };
        await applyEvents(client, target, partition, checkpoint, [{ position: checkpoint + 1, recordedAt: new Date().toISOString(), event }]);
      } finally {
        client.release();
      }
    };
    // A merchant of the same partition (found by hash), whose batch moves the partition's checkpoint.
    const neighbour = Array.from({ length: 500 }, (_, i) => `m-neighbour-${i}`).find((m) => partitionOf(m, partitions) === partitionOf(MERCHANT, partitions))!;
    await apply(neighbour);
    expect((await rest(h, metricsPath(MERCHANT, DAY), { headers: { 'if-none-match': etag } })).status).toBe(304);

    await apply(MERCHANT);
    const after = await rest(h, metricsPath(MERCHANT, DAY), { headers: { 'if-none-match': etag } });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).toMatch(WEAK_TAG);
    expect(after.headers.get('etag')).not.toBe(etag);
    const count = (res: { body: unknown }) => (res.body as { totals: Array<{ currency: string; transactionCount: number }> }).totals.find((t) => t.currency === 'USD')!.transactionCount;
    expect(count(after)).toBe(count(first) + 1);
  });

  it('counts REST requests by outcome on the admin port', async () => {
    const counted = async () => {
      const text = await (await fetch(`${h.adminUrl}/metrics`)).text();
      const of = (outcome: string) => Number(new RegExp(`^query_api_rest_requests_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
      return { ok: of('ok'), notModified: of('not_modified'), forbidden: of('http_403') };
    };
    const before = await counted();
    const etag = (await rest(h, metricsPath(MERCHANT, DAY))).headers.get('etag')!;
    await rest(h, metricsPath(MERCHANT, DAY), { headers: { 'if-none-match': etag } });
    await rest(h, metricsPath(MERCHANT, DAY), { token: await h.token({ kind: 'merchant', merchantId: 'm-other' }) });
    expect(await counted()).toEqual({ ok: before.ok + 1, notModified: before.notModified + 1, forbidden: before.forbidden + 1 });
  });
});

describe('ETags with a watermark bound', () => {
  let h: QueryApiHarness;
  const watermark = new SetWatermark();
  beforeAll(async () => {
    h = await startQueryApiHarness({ QUERY_STATEMENT_TIMEOUT_MS: '1000' }, { merchantDataWatermark: watermark });
    await fillReadModel(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  const ask = (parameters: Record<string, string | string[]>, headers: Record<string, string> = {}, token?: string) => rest(h, metricsPath(MERCHANT, parameters), { headers, token });

  it('tags an answer, and answers 304 with the same tag and Cache-Control for it, weakly compared', async () => {
    const first = await ask(DAY);
    const etag = first.headers.get('etag')!;
    expect([first.status, first.headers.get('cache-control')]).toEqual([200, 'private, no-cache']);
    expect(etag).toMatch(WEAK_TAG);
    expect(watermark.asked.at(-1)).toEqual([MERCHANT, 1]);
    for (const ifNoneMatch of [etag, etag.slice(2), `"other", ${etag}`, '*']) {
      const res = await ask(DAY, { 'if-none-match': ifNoneMatch });
      expect([res.status, res.text, res.headers.get('etag'), res.headers.get('cache-control')]).toEqual([304, '', etag, 'private, no-cache']);
    }
    // The same question in another spelling (other offsets, the default zone named) is the same answer.
    const respelt = await ask({ from: '2026-03-08T14:00:00+09:00', to: '2026-03-09T00:00:00-05:00', granularity: 'DAY', timeZone: 'UTC' }, { 'if-none-match': etag });
    expect(respelt.status).toBe(304);
  });

  it('answers 304 without reading the metrics: it does so while a lock blocks every read of them', async () => {
    const etag = (await ask(DAY)).headers.get('etag')!;
    const blocker = await h.pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query('lock table rm_merchant_metrics_v1.metrics_daily in access exclusive mode');
      const started = Date.now();
      const revalidated = await ask(DAY, { 'if-none-match': etag });
      expect([revalidated.status, Date.now() - started < 500]).toEqual([304, true]);
      // A question asked for the first time does read them (no answer of it is cached anywhere), and waits for the lock until the statement timeout.
      const read = await ask({ ...DAY, groupBy: 'PAYMENT_METHOD' });
      expect([read.status, (read.body as { code: string }).code]).toEqual([504, 'QUERY_TIMEOUT']);
    } finally {
      await blocker.query('rollback');
      blocker.release();
    }
  });

  it('changes the tag when the watermark does, when the question does, and when another version goes live', async () => {
    const before = (await ask(DAY)).headers.get('etag')!;
    watermark.marks.set(MERCHANT, 'w-1');
    const changed = await ask(DAY, { 'if-none-match': before });
    const after = changed.headers.get('etag')!;
    expect([changed.status, after === before, after]).toEqual([200, false, expect.stringMatching(WEAK_TAG)]);
    expect((await ask(DAY, { 'if-none-match': after })).status).toBe(304);

    const other = await ask({ ...DAY, groupBy: 'STORE' }, { 'if-none-match': after });
    expect([other.status, other.headers.get('etag') === after]).toEqual([200, false]);

    const client = await h.pool.connect();
    try {
      await installVersion(client, merchantMetricsProjection, { version: 2, partitions: 16, codeRevision: 'test' });
      await promoteVersion(client, PROJECTION_NAME, 2);
    } finally {
      client.release();
    }
    // The live version is cached for half a second.
    let promoted: Awaited<ReturnType<typeof ask>>;
    const deadline = Date.now() + 5000;
    do promoted = await ask(DAY, { 'if-none-match': after });
    while (promoted.status === 304 && Date.now() < deadline);
    expect([promoted.status, promoted.headers.get('etag') === after, (promoted.body as { freshness: { version: number } }).freshness.version]).toEqual([200, false, 2]);
    expect(watermark.asked.at(-1)).toEqual([MERCHANT, 2]);
  });

  it('answers in full, without a tag, when the watermark cannot be read', async () => {
    const etag = (await ask(DAY)).headers.get('etag')!;
    watermark.failing = true;
    try {
      const res = await ask(DAY, { 'if-none-match': etag });
      // (Version 2, empty, went live in the test before.)
      expect([res.status, res.headers.get('etag'), res.headers.get('cache-control'), res.body]).toEqual([200, null, 'private, no-cache', expect.objectContaining({ totals: [] })]);
    } finally {
      watermark.failing = false;
    }
  });

  it('judges the token and the question before any tag: 403 and 400 whatever If-None-Match says', async () => {
    const token = await h.token({ kind: 'merchant', merchantId: 'm-other' });
    expect((await ask(DAY, { 'if-none-match': '*' }, token)).status).toBe(403);
    const tooLong = await ask({ ...DAY, granularity: 'HOUR', to: '2026-05-01T00:00:00Z' }, { 'if-none-match': '*' });
    expect([tooLong.status, (tooLong.body as { code: string }).code]).toEqual([400, 'BAD_USER_INPUT']);
  });
});
