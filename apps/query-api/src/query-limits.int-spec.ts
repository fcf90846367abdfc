import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECTION_NAME, merchantMetricsProjection } from '@app/merchant-metrics';
import { goLiveIfFirst, installVersion } from '@app/projections';
import { insertCells } from '../../../libs/merchant-metrics/src/query/testing/metrics-fixtures.js';
import { createQueryPool, isStatementTimeout } from './infrastructure/query-pool.js';
import { startQueryApiHarness, type GraphqlResponse, type QueryApiHarness } from './testing/query-api-harness.js';

/**
 * Long ranges, big counts and the limits that keep long questions affordable,
 * against a read model filled by hand with plain SQL (as in
 * merchant-metrics.int-spec.ts), so the expected answers are computed here.
 */
const SCHEMA = 'rm_merchant_metrics_v1';

// merchant, 15-minute bucket (UTC), currency, store, completed, gross, refunds, refunded, failed, customers
type Cell = [string, string, string, string, number, number, number, number, number, string[]];

async function fill(h: QueryApiHarness, cells: Cell[]): Promise<void> {
  const client = await h.pool.connect();
  try {
    await installVersion(client, merchantMetricsProjection, { version: 1, partitions: 16, codeRevision: 'test' });
    await goLiveIfFirst(client, PROJECTION_NAME, 1);
    await insertCells(client, SCHEMA, cells.map(([merchant, bucket, currency, store, completed, gross, refunds, refunded, failed, customers]) => (
      { merchant, bucket, currency, method: 'CARD', store, completed, gross, refunds, refunded, failed, customers })));
  } finally {
    client.release();
  }
}

const VALUES = 'currency transactionCount grossAmount refundCount refundAmount netAmount failedCount averageTicket uniqueCustomers';
const QUERY = `query Q($merchantId: ID!, $from: DateTime!, $to: DateTime!, $granularity: Granularity!, $zone: String, $groupBy: [Dimension!], $compareTo: Comparison) {
  merchantMetrics(merchantId: $merchantId, from: $from, to: $to, granularity: $granularity, timeZone: $zone, groupBy: $groupBy, compareTo: $compareTo) {
    totals { ${VALUES} }
    series { currency storeId points { start values { ${VALUES} } previous { ${VALUES} } } }
  }
}`;

/** MetricValues as the API writes them; the average is worked out by hand by the caller. */
function values(tx: number, gross: number, refunds: number, refunded: number, failed: number, customers: number, averageTicket: string | null) {
  return {
    currency: 'EUR',
    transactionCount: tx,
    grossAmount: String(gross),
    refundCount: refunds,
    refundAmount: String(refunded),
    netAmount: String(gross - refunded),
    failedCount: failed,
    averageTicket,
    uniqueCustomers: customers,
  };
}
const ZERO = values(0, 0, 0, 0, 0, 0, null);

describe('quarters, years and counts beyond 32 bits', () => {
  // 2^31 and more payments in one cell: columns are bigint. Amounts stay below 2^53 so that they can be written here as numbers.
  const CELLS: Cell[] = [
    ['m-big', '2024-11-20T10:00:00Z', 'EUR', 's-1', 3_000_000_000, 300_000_000_000, 2_200_000_000, 22_000_000_000, 2_147_483_648, ['c-1', 'c-2']],
    ['m-big', '2025-05-10T10:00:00Z', 'EUR', 's-1', 1_500_000_001, 150_000_000_100, 0, 0, 0, ['c-1']],
    // 2025-12-31T16:00Z is already 2026 in Tokyo (01:00 JST), still 2025 in UTC.
    ['m-big', '2025-12-31T16:00:00Z', 'EUR', 's-1', 7, 700, 1, 100, 2, ['c-3']],
  ];

  let h: QueryApiHarness;
  beforeAll(async () => {
    h = await startQueryApiHarness();
    await fill(h, CELLS);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function ask(variables: Record<string, unknown>) {
    const res = await h.graphql(QUERY, { merchantId: 'm-big', ...variables });
    expect(res.body.errors).toBeUndefined();
    expect(res.status).toBe(200);
    return (res.body.data as { merchantMetrics: { totals: unknown[]; series: Array<{ points: unknown[] }> } }).merchantMetrics;
  }

  it('answers YEAR buckets in UTC, each compared with the year before, with exact counts above 2^31 as JSON numbers', async () => {
    const answer = await ask({ from: '2024-03-01T00:00:00Z', to: '2026-01-01T00:00:00Z', granularity: 'YEAR', compareTo: 'PREVIOUS_YEAR' });
    // 2024: the first cell; 2025: the other two. Every average is exactly 100 (150,000,000,800 = 100 × 1,500,000,008).
    const y2024 = values(3_000_000_000, 300_000_000_000, 2_200_000_000, 22_000_000_000, 2_147_483_648, 2, '100');
    const y2025 = values(1_500_000_008, 150_000_000_800, 1, 100, 2, 2, '100');
    expect(answer).toEqual({
      totals: [values(4_500_000_008, 450_000_000_800, 2_200_000_001, 22_000_000_100, 2_147_483_650, 3, '100')],
      series: [
        {
          currency: 'EUR',
          storeId: null,
          points: [
            { start: '2024-01-01T00:00:00.000Z', values: y2024, previous: ZERO },
            { start: '2025-01-01T00:00:00.000Z', values: y2025, previous: y2024 },
          ],
        },
      ],
    });
  });

  it('writes the counts as plain JSON numbers, not strings', async () => {
    const res = await fetch(`${h.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await h.token({ kind: 'ops' })}` },
      body: JSON.stringify({
        query: '{ merchantMetrics(merchantId: "m-big", from: "2024-01-01T00:00:00Z", to: "2025-01-01T00:00:00Z", granularity: YEAR) { totals { transactionCount failedCount } } }',
      }),
    });
    expect(await res.text()).toBe('{"data":{"merchantMetrics":{"totals":[{"transactionCount":3000000000,"failedCount":2147483648}]}}}');
  });

  it('answers QUARTER buckets in Asia/Tokyo, compared with the previous period, the new year starting at 15:00 UTC', async () => {
    const answer = await ask({
      from: '2025-04-01T00:00:00+09:00',
      to: '2026-01-01T00:00:00+09:00',
      granularity: 'QUARTER',
      zone: 'Asia/Tokyo',
      compareTo: 'PREVIOUS_PERIOD',
    });
    // Q2, Q3, Q4 of 2025 in Tokyo, compared with Q3 2024 to Q1 2025; the 16:00Z cell of 31 December is in Q1 2026, outside.
    const q2 = values(1_500_000_001, 150_000_000_100, 0, 0, 0, 1, '100');
    const q4of2024 = values(3_000_000_000, 300_000_000_000, 2_200_000_000, 22_000_000_000, 2_147_483_648, 2, '100');
    expect(answer).toEqual({
      totals: [q2],
      series: [
        {
          currency: 'EUR',
          storeId: null,
          points: [
            { start: '2025-03-31T15:00:00.000Z', values: q2, previous: ZERO },
            { start: '2025-06-30T15:00:00.000Z', values: ZERO, previous: q4of2024 },
            { start: '2025-09-30T15:00:00.000Z', values: ZERO, previous: ZERO },
          ],
        },
      ],
    });
    const nextYear = await ask({ from: '2026-01-01T00:00:00+09:00', to: '2026-01-02T00:00:00+09:00', granularity: 'YEAR', zone: 'Asia/Tokyo' });
    expect(nextYear.totals).toEqual([values(7, 700, 1, 100, 2, 1, '100')]);
  });

  it('allows ten years of YEAR and five of QUARTER, and refuses longer ranges with BAD_USER_INPUT', async () => {
    const decade = await ask({ from: '2016-01-01T00:00:00Z', to: '2026-01-08T00:00:00Z', granularity: 'YEAR' });
    expect(decade.series[0]?.points).toHaveLength(11);
    const refusals: unknown[] = [];
    for (const [granularity, from, to] of [['YEAR', '2016-01-01T00:00:00Z', '2026-01-09T00:00:00Z'], ['QUARTER', '2021-01-01T00:00:00Z', '2026-01-06T00:00:00Z']]) {
      const res = await h.graphql(QUERY, { merchantId: 'm-big', from, to, granularity });
      refusals.push(res.body.errors?.map((e) => [e.extensions?.code, e.message]));
    }
    expect(refusals).toEqual([
      [['BAD_USER_INPUT', 'the range spans 3661.0 days; at most 3660 days are allowed with YEAR buckets']],
      [['BAD_USER_INPUT', 'the range spans 1831.0 days; at most 1830 days are allowed with QUARTER buckets']],
    ]);
  });
});

describe('QUERY_MAX_SERIES=2 and QUERY_STATEMENT_TIMEOUT_MS=300', () => {
  const DAY = { from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z', granularity: 'DAY' };
  let h: QueryApiHarness;
  beforeAll(async () => {
    h = await startQueryApiHarness({ QUERY_MAX_SERIES: '2', QUERY_STATEMENT_TIMEOUT_MS: '300' });
    await fill(h, ['s-1', 's-2', 's-3'].map((store): Cell => ['m-stores', '2026-03-01T10:00:00Z', 'EUR', store, 1, 100, 0, 0, 0, []]));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses an answer of more series than the cap with BAD_USER_INPUT, and answers a narrower question', async () => {
    const byStore = await h.graphql(QUERY, { merchantId: 'm-stores', ...DAY, groupBy: ['STORE'] });
    expect([byStore.status, byStore.body.data, byStore.body.errors?.map((e) => [e.extensions?.code, e.message])]).toEqual([
      200,
      null,
      [
        [
          'BAD_USER_INPUT',
          'the answer would have 3 series (one per currency, payment method and store seen in the range); at most 2 are allowed: ' +
            'ask with fewer groupBy dimensions (each store makes its own series) or for a shorter range',
        ],
      ],
    ]);
    const byMethod = await h.graphql(QUERY, { merchantId: 'm-stores', ...DAY, groupBy: ['PAYMENT_METHOD'] });
    expect(byMethod.body.errors).toBeUndefined();
    expect((byMethod.body.data as { merchantMetrics: { totals: unknown[] } }).merchantMetrics.totals).toEqual([values(3, 300, 0, 0, 0, 0, '100')]);
  });

  it('answers QUERY_TIMEOUT when the database cancels a question that runs too long, and answers again afterwards', async () => {
    const count = async () => {
      const text = await (await fetch(`${h.adminUrl}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('query_api_requests_total{outcome="query_timeout"}'));
      return line ? Number(line.split(' ')[1]) : 0;
    };
    const before = await count();
    // A migration holding the daily rollup: the question waits for the lock until statement_timeout cancels it.
    const blocker = await h.pool.connect();
    let elapsed = 0;
    let timedOut: GraphqlResponse | undefined;
    try {
      await blocker.query('begin');
      await blocker.query(`lock table ${SCHEMA}.metrics_daily in access exclusive mode`);
      const started = Date.now();
      timedOut = await h.graphql(QUERY, { merchantId: 'm-stores', ...DAY });
      elapsed = Date.now() - started;
    } finally {
      await blocker.query('rollback');
      blocker.release();
    }
    expect([timedOut?.status, timedOut?.body.data, timedOut?.body.errors?.map((e) => [e.extensions?.code, e.message])]).toEqual([
      200,
      null,
      [['QUERY_TIMEOUT', 'the question took longer than 300 ms and was cancelled; ask for a shorter range, a coarser granularity or fewer groupBy dimensions, or retry later']],
    ]);
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(5000);
    expect(await count()).toBe(before + 1);

    const again = await h.graphql(QUERY, { merchantId: 'm-stores', ...DAY });
    expect(again.body.errors).toBeUndefined();
    expect((again.body.data as { merchantMetrics: { totals: unknown[] } }).merchantMetrics.totals).toEqual([values(3, 300, 0, 0, 0, 0, '100')]);
  });

  it('sets statement_timeout on every connection of the query pool (5 s by default), which cancels a runaway statement', async () => {
    const pool = createQueryPool({ databaseUrl: h.database.url, databasePoolSize: 1, statementTimeoutMs: 100 });
    const defaults = createQueryPool({ databaseUrl: h.database.url, databasePoolSize: 1 });
    try {
      expect((await pool.query<{ statement_timeout: string }>('show statement_timeout')).rows).toEqual([{ statement_timeout: '100ms' }]);
      expect((await pool.query<{ plan_cache_mode: string }>('show plan_cache_mode')).rows).toEqual([{ plan_cache_mode: 'force_generic_plan' }]);
      const started = Date.now();
      const error = await pool.query('select pg_sleep(2)').catch((e: unknown) => e);
      expect([isStatementTimeout(error), (error as { code?: string }).code]).toEqual([true, '57014']);
      expect(Date.now() - started).toBeLessThan(1500);
      // The connection is still good.
      expect((await pool.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
      expect((await defaults.query<{ statement_timeout: string }>('show statement_timeout')).rows).toEqual([{ statement_timeout: '5s' }]);
    } finally {
      await Promise.all([pool.end(), defaults.end()]);
    }
    expect(isStatementTimeout(Object.assign(new Error('canceling statement due to user request'), { code: '57014' }))).toBe(false);
  });
});
