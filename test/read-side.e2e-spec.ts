import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMerchantToken } from '@app/access';
import { eventually } from '@app/testing';
import { startCommandApiHarness, type CommandApiHarness } from '../apps/command-api/src/testing/command-api-harness.js';
import { sendEvents } from '../apps/projector/src/testing/send-events.js';
import { generateEvents } from '../libs/merchant-metrics/src/testing/index.js';
import type { PaymentEventJson } from '../libs/projections/src/payment-event.json.js';
import { AppProcess, PROJECTOR, QUERY_API } from './support/app-process.js';

const SECRET = 'e2e-merchant-jwt-secret-0123456789';
const VALUES = 'currency transactionCount grossAmount refundCount refundAmount netAmount failedCount averageTicket uniqueCustomers';
const QUERY = `query($m: ID!, $from: DateTime!, $to: DateTime!, $tz: String) {
  merchantMetrics(merchantId: $m, from: $from, to: $to, granularity: DAY, timeZone: $tz) {
    freshness { asOf lagSeconds version }
    totals { ${VALUES} }
    series { currency paymentMethod storeId points { start values { ${VALUES} } } }
  }
}`;
const RANGE = { from: '2026-10-20T00:00:00Z', to: '2026-11-10T00:00:00Z' };

interface Values {
  currency: string; transactionCount: number; grossAmount: string; refundCount: number; refundAmount: string;
  netAmount: string; failedCount: number; averageTicket: string | null; uniqueCustomers: number;
}
interface Sums { completed: number; gross: bigint; refunds: number; refunded: bigint; failed: number; customers: Set<string> }

/** MetricValues as the issue defines them, with averageTicket rounded half up (amounts are positive). */
function valuesOf(currency: string, s: Sums): Values {
  return {
    currency,
    transactionCount: s.completed,
    grossAmount: String(s.gross),
    refundCount: s.refunds,
    refundAmount: String(s.refunded),
    netAmount: String(s.gross - s.refunded),
    failedCount: s.failed,
    averageTicket: s.completed === 0 ? null : String((2n * s.gross + BigInt(s.completed)) / (2n * BigInt(s.completed))),
    uniqueCustomers: s.customers.size,
  };
}

const emptySums = (): Sums => ({ completed: 0, gross: 0n, refunds: 0, refunded: 0n, failed: 0, customers: new Set() });

function add(s: Sums, e: PaymentEventJson): void {
  if (e.paymentCompleted) {
    s.completed++;
    s.gross += BigInt(e.paymentCompleted.amount.minorUnits);
    s.customers.add(e.paymentCompleted.customerId);
  } else if (e.paymentFailed) s.failed++;
  else {
    s.refunds++;
    s.refunded += BigInt(e.paymentRefunded!.amount.minorUnits);
  }
}

/** Calendar dates from `first` to `last` (YYYY-MM-DD), inclusive, by plain date arithmetic. */
function datesBetween(first: string, last: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/**
 * The whole expected answer, from the events with Intl only (none of the read side's code): every local
 * day the range touches, per currency the merchant used, zero days included; totals per currency.
 */
function expectedAnswer(events: PaymentEventJson[], merchantId: string, timeZone: string) {
  const localDate = (t: string | number | Date) => dateIn(timeZone).format(new Date(t));
  const days = datesBetween(localDate(RANGE.from), localDate(Date.parse(RANGE.to) - 1));
  const byCurrency = new Map<string, { total: Sums; days: Map<string, Sums> }>();
  for (const e of events.filter((x) => x.merchantId === merchantId)) {
    const currency = (e.paymentCompleted ?? e.paymentFailed ?? e.paymentRefunded)!.amount.currency;
    const c = byCurrency.get(currency) ?? { total: emptySums(), days: new Map<string, Sums>() };
    byCurrency.set(currency, c);
    const day = localDate(e.occurredAt);
    expect(days).toContain(day);
    const sums = c.days.get(day) ?? emptySums();
    c.days.set(day, sums);
    add(sums, e);
    add(c.total, e);
  }
  const currencies = [...byCurrency.keys()].sort();
  return {
    totals: currencies.map((currency) => valuesOf(currency, byCurrency.get(currency)!.total)),
    series: currencies.map((currency) => ({
      currency,
      paymentMethod: null,
      storeId: null,
      points: days.map((day) => ({ day, values: valuesOf(currency, byCurrency.get(currency)!.days.get(day) ?? emptySums()) })),
    })),
  };
}

const dateIn = (timeZone: string) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
const clockIn = (timeZone: string) => new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

describe('read side end to end: command API → event store → JetStream → projector → GraphQL', () => {
  let h: CommandApiHarness;
  let projector: AppProcess;
  let queryApi: AppProcess;
  const window = { from: new Date('2026-10-25T00:00:00Z'), to: new Date('2026-11-08T00:00:00Z') };
  const events = generateEvents({ seed: 21, count: 3000, merchants: 6, merchantPrefix: 'e2e-', customersPerMerchant: 30, ...window });

  beforeAll(async () => {
    h = await startCommandApiHarness();
    const env = { DATABASE_URL: h.database.url, NATS_URL: h.nats.url, MERCHANT_JWT_SECRET: SECRET };
    projector = await AppProcess.start(PROJECTOR, env);
    queryApi = await AppProcess.start(QUERY_API, env);
  });
  afterAll(async () => {
    await queryApi?.stop();
    await projector?.stop();
    await h?.close();
  });

  const ask = async (merchantId: string, timeZone: string) => {
    const token = await signMerchantToken(SECRET, { kind: 'merchant', merchantId }, { ttlSeconds: 600 });
    const res = await fetch(`${queryApi.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: QUERY, variables: { m: merchantId, ...RANGE, tz: timeZone } }),
    });
    const body = (await res.json()) as { data?: { merchantMetrics: any }; errors?: unknown };
    if (!body.data) throw new Error(`no data: ${JSON.stringify(body.errors)}`);
    return body.data.merchantMetrics;
  };

  it('answers every merchant exactly (totals and every daily point, zero days included) in New York (across the DST change) and in Kolkata', async () => {
    expect(await sendEvents(h.url, h.key, events, 500)).toBe(3000);
    let zeroDays = 0;
    let negativeDays = 0;
    for (const timeZone of ['America/New_York', 'Asia/Kolkata']) {
      for (let m = 0; m < 6; m++) {
        const merchantId = `e2e-${m}`;
        const expected = expectedAnswer(events, merchantId, timeZone);
        const answer = await eventually(async () => {
          const got = await ask(merchantId, timeZone);
          expect(got.freshness.version).toBe(3); // a new installation starts on v3
          expect(got.totals).toEqual(expected.totals);
          return got;
        }, 30_000);
        // Each start is the local midnight of its day; the day is how the expected points are keyed.
        const series = answer.series.map((s: { points: Array<{ start: string; values: Values }> }) => ({
          ...s,
          points: s.points.map((p) => {
            expect(clockIn(timeZone).format(new Date(p.start))).toBe('00:00:00');
            return { day: dateIn(timeZone).format(new Date(p.start)), values: p.values };
          }),
        }));
        expect(series).toEqual(expected.series);
        for (const s of expected.series) {
          zeroDays += s.points.filter((p) => p.values.transactionCount + p.values.refundCount + p.values.failedCount === 0).length;
          negativeDays += s.points.filter((p) => p.values.netAmount.startsWith('-')).length;
        }
      }
    }
    // Otherwise the comparison above would not cover zero-filled points or a day whose refunds exceed its sales.
    expect(zeroDays).toBeGreaterThan(0);
    expect(negativeDays).toBeGreaterThan(0);
  });

  it('zero-fills every local day of the widened range (22 days; New York has one 25-hour day in it)', async () => {
    const answer = await ask('e2e-0', 'America/New_York');
    // [2026-10-20T00:00Z, 2026-11-10T00:00Z) widens to New York days 2026-10-19 … 2026-11-09. Local midnight is
    // UTC−4 up to and including 2026-11-01 (the change happens at 02:00 that day), UTC−5 afterwards.
    const midnights = Array.from({ length: 22 }, (_, i) => {
      const day = Date.UTC(2026, 9, 19 + i);
      return new Date(day + (day <= Date.UTC(2026, 10, 1) ? 4 : 5) * 3_600_000).toISOString();
    });
    expect(answer.series.length).toBeGreaterThan(0);
    for (const series of answer.series) {
      expect(series.points.map((p: { start: string }) => new Date(p.start).toISOString())).toEqual(midnights);
    }
  });
});
