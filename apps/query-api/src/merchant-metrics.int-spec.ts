import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore, readPartitionCount } from '@app/event-store';
import { eventually } from '@app/testing';
import { PROJECTION_NAME, merchantMetricsProjection } from '@app/merchant-metrics';
import { goLiveIfFirst, installVersion, LiveVersionCache, promoteVersion, rollbackVersion, type LiveVersion } from '@app/projections';
import { sampleEvent } from '../../../libs/event-store/src/testing/sample-events.js';
import { startQueryApiHarness, type GraphqlResponse, type QueryApiHarness } from './testing/query-api-harness.js';

/**
 * Happy paths against a read model filled by hand with plain SQL, so the
 * expected answers below are computed independently of the projector and the
 * reader: 15-minute rows, their hourly and daily rollups (derived in SQL as the
 * native engine's projector keeps them), and the customer sets.
 */
const SCHEMA = 'rm_merchant_metrics_v1';

// merchant, 15-minute bucket (UTC), currency, method, store, completed, gross, refunds, refunded, failed, customers
type Cell = [string, string, string, string, string, number, number, number, number, number, string[]];
const CELLS: Cell[] = [
  ['m-1', '2026-02-28T05:00:00Z', 'JPY', 'CARD', 's-1', 1, 800, 0, 0, 0, ['c-7']],
  ['m-1', '2026-03-01T10:00:00Z', 'JPY', 'CARD', 's-1', 2, 3000, 0, 0, 1, ['c-1', 'c-2']],
  ['m-1', '2026-03-01T10:15:00Z', 'JPY', 'WALLET', 's-1', 1, 500, 1, 200, 0, ['c-1']],
  ['m-1', '2026-03-01T12:00:00Z', 'USD', 'CARD', 's-1', 1, 1250, 0, 0, 0, ['c-3']],
  ['m-1', '2026-03-02T23:45:00Z', 'JPY', 'CARD', 's-2', 1, 1001, 0, 0, 0, ['c-1']],
  // At `to`: outside the half-open range.
  ['m-1', '2026-03-03T00:00:00Z', 'JPY', 'CARD', 's-1', 5, 9999, 0, 0, 0, ['c-9']],
  ['m-2', '2026-03-01T10:00:00Z', 'JPY', 'CARD', 's-9', 7, 7000, 0, 0, 0, ['c-50']],
];

async function fillReadModel(h: QueryApiHarness): Promise<void> {
  const client = await h.pool.connect();
  try {
    await installVersion(client, merchantMetricsProjection, { version: 1, partitions: 16, codeRevision: 'test' });
    await goLiveIfFirst(client, 'merchant-metrics', 1);
    for (const [merchant, bucket, currency, method, store, completed, gross, refunds, refunded, failed, customers] of CELLS) {
      await client.query(`insert into ${SCHEMA}.metrics_15m values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
        merchant, bucket, currency, method, store, completed, gross, refunds, refunded, failed,
      ]);
      for (const customer of customers) {
        await client.query(`insert into ${SCHEMA}.customers_15m values ($1, $2, $3, $4, $5, $6)`, [merchant, bucket, currency, method, store, customer]);
      }
    }
    for (const [table, unit] of [['metrics_hourly', 'hour'], ['metrics_daily', 'day']]) {
      await client.query(
        `insert into ${SCHEMA}.${table}
         select merchant_id, date_trunc('${unit}', bucket, 'UTC'), currency, payment_method, store_id,
                sum(completed_count), sum(gross_amount), sum(refund_count), sum(refund_amount), sum(failed_count)
           from ${SCHEMA}.metrics_15m group by 1, 2, 3, 4, 5`,
      );
    }
  } finally {
    client.release();
  }
}

const VALUES = 'currency transactionCount grossAmount refundCount refundAmount netAmount failedCount averageTicket uniqueCustomers';
const QUERY = `query Q($merchantId: ID!, $from: DateTime!, $to: DateTime!, $zone: String, $groupBy: [Dimension!], $compareTo: Comparison) {
  merchantMetrics(merchantId: $merchantId, from: $from, to: $to, granularity: DAY, timeZone: $zone, groupBy: $groupBy, compareTo: $compareTo) {
    freshness { asOf lagSeconds version }
    totals { ${VALUES} }
    series { currency paymentMethod storeId points { start values { ${VALUES} } previous { ${VALUES} } } }
  }
}`;

function values(currency: string, tx: number, gross: number, refunds: number, refunded: number, failed: number, customers: number) {
  return {
    currency,
    transactionCount: tx,
    grossAmount: String(gross),
    refundCount: refunds,
    refundAmount: String(refunded),
    netAmount: String(gross - refunded),
    failedCount: failed,
    averageTicket: tx === 0 ? null : String(Math.round(gross / tx)),
    uniqueCustomers: customers,
  };
}
const zero = (currency: string) => values(currency, 0, 0, 0, 0, 0, 0);

interface Answer {
  freshness: { asOf: string; lagSeconds: number; version: number } | undefined;
  totals: Array<ReturnType<typeof values>>;
  series: unknown[];
}

describe('merchantMetrics against a filled read model', () => {
  let h: QueryApiHarness;
  beforeAll(async () => {
    h = await startQueryApiHarness();
    await fillReadModel(h);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function ask(token: string, variables: Record<string, unknown>) {
    const before = Date.now();
    const res = await h.graphql(QUERY, variables, { token });
    const after = Date.now();
    expect(res.body.errors).toBeUndefined();
    expect(res.status).toBe(200);
    const result = (res.body.data as { merchantMetrics: Answer }).merchantMetrics;
    const freshness = result.freshness!;
    // Nothing is waiting in the event store, so the answer is as of the database's now.
    const asOf = Date.parse(freshness.asOf);
    expect(asOf).toBeGreaterThanOrEqual(before - 1000);
    expect(asOf).toBeLessThanOrEqual(after + 1000);
    expect(freshness.lagSeconds).toBe(0);
    expect(freshness.version).toBe(1);
    return { ...result, freshness: undefined };
  }

  it('answers a merchant with its own metrics by UTC day and payment method', async () => {
    const token = await h.token({ kind: 'merchant', merchantId: 'm-1' });
    const answer = await ask(token, { merchantId: 'm-1', from: '2026-03-01T00:00:00Z', to: '2026-03-03T00:00:00Z', groupBy: ['PAYMENT_METHOD'] });
    const day1 = '2026-03-01T00:00:00.000Z';
    const day2 = '2026-03-02T00:00:00.000Z';
    expect(answer).toEqual({
      freshness: undefined,
      totals: [values('JPY', 4, 4501, 1, 200, 1, 2), values('USD', 1, 1250, 0, 0, 0, 1)],
      series: [
        {
          currency: 'JPY',
          paymentMethod: 'CARD',
          storeId: null,
          points: [
            { start: day1, values: values('JPY', 2, 3000, 0, 0, 1, 2), previous: null },
            { start: day2, values: values('JPY', 1, 1001, 0, 0, 0, 1), previous: null },
          ],
        },
        {
          currency: 'JPY',
          paymentMethod: 'WALLET',
          storeId: null,
          points: [
            { start: day1, values: values('JPY', 1, 500, 1, 200, 0, 1), previous: null },
            { start: day2, values: zero('JPY'), previous: null },
          ],
        },
        {
          currency: 'USD',
          paymentMethod: 'CARD',
          storeId: null,
          points: [
            { start: day1, values: values('USD', 1, 1250, 0, 0, 0, 1), previous: null },
            { start: day2, values: zero('USD'), previous: null },
          ],
        },
      ],
    });
    // The hand-computed average: 4501 / 4 = 1125.25.
    expect(answer.totals[0]!.averageTicket).toBe('1125');
  });

  it('buckets by the local day in Asia/Kolkata (+05:30) and compares with the previous period', async () => {
    const token = await h.token({ kind: 'merchant', merchantId: 'm-1' });
    const answer = await ask(token, {
      merchantId: 'm-1',
      from: '2026-03-01T00:00:00+05:30',
      to: '2026-03-02T00:00:00+05:30',
      zone: 'Asia/Kolkata',
      compareTo: 'PREVIOUS_PERIOD',
    });
    // The local day 2026-03-01 is [2026-02-28T18:30Z, 2026-03-01T18:30Z); the one before it holds the 05:00Z sale.
    expect(answer).toEqual({
      freshness: undefined,
      totals: [values('JPY', 3, 3500, 1, 200, 1, 2), values('USD', 1, 1250, 0, 0, 0, 1)],
      series: [
        {
          currency: 'JPY',
          paymentMethod: null,
          storeId: null,
          points: [{ start: '2026-02-28T18:30:00.000Z', values: values('JPY', 3, 3500, 1, 200, 1, 2), previous: values('JPY', 1, 800, 0, 0, 0, 1) }],
        },
        {
          currency: 'USD',
          paymentMethod: null,
          storeId: null,
          points: [{ start: '2026-02-28T18:30:00.000Z', values: values('USD', 1, 1250, 0, 0, 0, 1), previous: zero('USD') }],
        },
      ],
    });
    expect(answer.totals[0]!.averageTicket).toBe('1167');
  });

  it('lets an ops token read any merchant', async () => {
    const token = await h.token({ kind: 'ops' });
    const answer = await ask(token, { merchantId: 'm-2', from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z', groupBy: ['STORE'] });
    expect(answer).toEqual({
      freshness: undefined,
      totals: [values('JPY', 7, 7000, 0, 0, 0, 1)],
      series: [
        {
          currency: 'JPY',
          paymentMethod: null,
          storeId: 's-9',
          points: [{ start: '2026-03-01T00:00:00.000Z', values: values('JPY', 7, 7000, 0, 0, 0, 1), previous: null }],
        },
      ],
    });
  });

  it('answers the same when asked again (the query is then compiled), and skips unique customers when they are not asked for', async () => {
    const token = await h.token({ kind: 'merchant', merchantId: 'm-1' });
    const variables = { merchantId: 'm-1', from: '2026-02-28T00:00:00Z', to: '2026-03-03T00:00:00Z', groupBy: ['STORE'], compareTo: 'PREVIOUS_PERIOD' };
    const first = await ask(token, variables);
    expect(first.totals).toEqual([values('JPY', 5, 5301, 1, 200, 1, 3), values('USD', 1, 1250, 0, 0, 0, 1)]);
    for (let round = 0; round < 3; round++) expect(await ask(token, variables)).toEqual(first);

    const NO_CUSTOMERS = 'currency transactionCount grossAmount refundCount refundAmount netAmount failedCount averageTicket';
    const withoutCustomers = QUERY.replaceAll(VALUES, NO_CUSTOMERS);
    const drop = ({ uniqueCustomers: _, ...rest }: ReturnType<typeof values>) => rest;
    for (let round = 0; round < 3; round++) {
      const res = await h.graphql(withoutCustomers, variables, { token });
      expect(res.status).toBe(200);
      const answer = (res.body.data as { merchantMetrics: Answer }).merchantMetrics;
      expect(answer.totals).toEqual(first.totals.map(drop));
      expect(answer.series).toEqual(
        (first.series as Array<{ points: Array<{ values: ReturnType<typeof values>; previous: ReturnType<typeof values> }> }>).map((series) => ({
          ...series,
          points: series.points.map((p) => ({ ...p, values: drop(p.values), previous: drop(p.previous) })),
        })),
      );
    }
  });

  // Last: it leaves an unprojected event behind.
  it('reports as its freshness when the first event not yet projected was recorded', async () => {
    const store = new EventStore(h.pool, await readPartitionCount(h.pool));
    const event = sampleEvent({ merchantId: 'm-1' });
    await store.append([event]);
    const { rows } = await h.pool.query<{ recorded_at: Date }>('select recorded_at from event_store.events where event_id = $1', [event.eventId]);
    const token = await h.token({ kind: 'merchant', merchantId: 'm-1' });
    const res = await h.graphql('{ merchantMetrics(merchantId: "m-1", from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z", granularity: DAY) { freshness { asOf lagSeconds version } } }', {}, { token });
    const freshness = (res.body.data as { merchantMetrics: { freshness: { asOf: string; lagSeconds: number; version: number } } }).merchantMetrics.freshness;
    expect(freshness.asOf).toBe(rows[0]!.recorded_at.toISOString());
    expect(freshness.version).toBe(1);
    expect(freshness.lagSeconds).toBeGreaterThan(0);
    expect(freshness.lagSeconds).toBeLessThan(60);
  });
});

/**
 * Forgets the live version every seventh look-up. A request resolves its fields
 * within microseconds, so a clock-driven expiry would hardly ever fall between
 * two of them; this one falls inside most requests of ten fields, were each
 * field to look the version up.
 */
class ForgetfulLiveVersionCache extends LiveVersionCache {
  private lookUps = 0;

  override get(): Promise<LiveVersion> {
    if (++this.lookUps % 7 === 0) this.invalidate();
    return super.get();
  }
}

describe('merchantMetrics while the live version flips back and forth', () => {
  const M = 'm-flip';
  // As many fields as QUERY_MAX_ALIASES allows, one per day: the wider a request, the likelier it straddles a switch.
  const FIELDS = 10;
  const day = (d: number) => new Date(Date.UTC(2026, 2, 1 + d)).toISOString();
  // completed, gross, refunds, refunded per version and day: every field's answer differs between the versions.
  const cell = (version: number, d: number) =>
    version === 1 ? { completed: 1, gross: 100 + d, refunds: 0, refunded: 0 } : { completed: 2, gross: 300 + 7 * d, refunds: 1, refunded: d + 1 };
  const expected = (version: number) =>
    Object.fromEntries(
      Array.from({ length: FIELDS }, (_, d) => {
        const { completed, gross, refunded } = cell(version, d);
        const totals = [{ currency: 'EUR', transactionCount: completed, grossAmount: String(gross), refundAmount: String(refunded), netAmount: String(gross - refunded) }];
        return [`d${d}`, { freshness: { version }, totals }];
      }),
    );
  const QUERY = `{ ${Array.from(
    { length: FIELDS },
    (_, d) =>
      `d${d}: merchantMetrics(merchantId: "${M}", from: "${day(d)}", to: "${day(d + 1)}", granularity: DAY) ` +
      '{ freshness { version } totals { currency transactionCount grossAmount refundAmount netAmount } }',
  ).join(' ')} }`;

  let h: QueryApiHarness;
  beforeAll(async () => {
    // Ten fields cost 1080.
    h = await startQueryApiHarness({ QUERY_MAX_COMPLEXITY: '2000' }, { liveVersionCache: (pool) => new ForgetfulLiveVersionCache(pool, PROJECTION_NAME) });
    const client = await h.pool.connect();
    try {
      for (const version of [1, 2]) {
        const schema = `rm_merchant_metrics_v${version}`;
        await installVersion(client, merchantMetricsProjection, { version, partitions: 16, codeRevision: 'test' });
        for (let d = 0; d < FIELDS; d++) {
          const { completed, gross, refunds, refunded } = cell(version, d);
          await client.query(`insert into ${schema}.metrics_15m values ($1, $2, 'EUR', 'CARD', 's-1', $3, $4, $5, $6, 0)`, [
            M, new Date(Date.parse(day(d)) + 10 * 3_600_000), completed, gross, refunds, refunded,
          ]);
        }
        for (const [table, unit] of [['metrics_hourly', 'hour'], ['metrics_daily', 'day']]) {
          await client.query(
            `insert into ${schema}.${table}
             select merchant_id, date_trunc('${unit}', bucket, 'UTC'), currency, payment_method, store_id,
                    sum(completed_count), sum(gross_amount), sum(refund_count), sum(refund_amount), sum(failed_count)
               from ${schema}.metrics_15m group by 1, 2, 3, 4, 5`,
          );
        }
      }
      await goLiveIfFirst(client, PROJECTION_NAME, 1);
    } finally {
      client.release();
    }
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers every request wholly from one version, with that version's exact numbers", async () => {
    type Fields = Record<string, { freshness: { version: number } }>;
    const answers: GraphqlResponse[] = [];
    let flips = 0;
    let stop = false;
    const flipper = (async () => {
      const client = await h.pool.connect();
      try {
        await promoteVersion(client, PROJECTION_NAME, 2);
        flips++;
        // Each rollback returns to the other version.
        while (!stop) {
          await rollbackVersion(client, PROJECTION_NAME);
          flips++;
        }
      } finally {
        client.release();
      }
    })();
    const clients = Array.from({ length: 6 }, async () => {
      while (!stop) answers.push(await h.graphql(QUERY));
    });
    const versionsOf = (answer: GraphqlResponse) => Object.values((answer.body.data ?? {}) as Fields).map((field) => field.freshness.version);
    const answeredBy = (version: number) => answers.filter((answer) => versionsOf(answer)[0] === version).length;
    try {
      await eventually(() => {
        expect(flips).toBeGreaterThanOrEqual(50);
        expect([answeredBy(1), answeredBy(2)].every((n) => n >= 100)).toBe(true);
      }, 60_000);
    } finally {
      stop = true;
      await Promise.all([flipper, ...clients]);
    }

    expect(answers.filter((answer) => answer.status !== 200 || answer.body.errors !== undefined).map((answer) => answer.body)).toEqual([]);
    expect(answers.map(versionsOf).filter((versions) => new Set(versions).size !== 1).map((versions) => versions.join(''))).toEqual([]);
    for (const answer of answers) expect(answer.body).toEqual({ data: expected(versionsOf(answer)[0]!) });
  });
});
