import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMerchantToken } from '@app/access';
import { eventually } from '@app/testing';
import { startCommandApiHarness, type CommandApiHarness } from '../apps/command-api/src/testing/command-api-harness.js';
import { sendEvents } from '../apps/projector/src/testing/send-events.js';
import { generateEvents } from '../libs/merchant-metrics/src/testing/index.js';
import type { PaymentEventJson } from '../libs/merchant-metrics/src/projection/payment-event.json.js';
import { AppProcess, PROJECTOR, QUERY_API } from './support/app-process.js';

const SECRET = 'e2e-merchant-jwt-secret-0123456789';
const QUERY = `query($m: ID!, $from: DateTime!, $to: DateTime!, $tz: String) {
  merchantMetrics(merchantId: $m, from: $from, to: $to, granularity: DAY, timeZone: $tz) {
    freshness { asOf lagSeconds version }
    totals { currency transactionCount grossAmount refundCount refundAmount netAmount failedCount uniqueCustomers }
    series { currency points { start values { transactionCount grossAmount refundAmount failedCount uniqueCustomers } } }
  }
}`;

interface DayValues { transactionCount: number; grossAmount: string; refundAmount: string; failedCount: number; uniqueCustomers: number }

/** Per currency and local calendar day, computed from the events with Intl only (none of the read side's code). */
function expectedDays(events: PaymentEventJson[], merchantId: string, timeZone: string): Map<string, Map<string, DayValues>> {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  const out = new Map<string, Map<string, DayValues & { customers: Set<string> }>>();
  for (const e of events.filter((x) => x.merchantId === merchantId)) {
    const body = e.paymentCompleted ?? e.paymentFailed ?? e.paymentRefunded!;
    const currency = body.amount.currency;
    const d = day.format(new Date(e.occurredAt));
    const days = out.get(currency) ?? new Map();
    out.set(currency, days);
    const v = days.get(d) ?? { transactionCount: 0, grossAmount: '0', refundAmount: '0', failedCount: 0, uniqueCustomers: 0, customers: new Set<string>() };
    days.set(d, v);
    if (e.paymentCompleted) {
      v.transactionCount++;
      v.grossAmount = String(BigInt(v.grossAmount) + BigInt(body.amount.minorUnits));
      v.customers.add(e.paymentCompleted.customerId);
      v.uniqueCustomers = v.customers.size;
    } else if (e.paymentFailed) v.failedCount++;
    else v.refundAmount = String(BigInt(v.refundAmount) + BigInt(body.amount.minorUnits));
  }
  return new Map([...out].map(([c, days]) => [c, new Map([...days].map(([d, { customers: _, ...v }]) => [d, v]))]));
}

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
      body: JSON.stringify({ query: QUERY, variables: { m: merchantId, from: '2026-10-20T00:00:00Z', to: '2026-11-10T00:00:00Z', tz: timeZone } }),
    });
    const body = (await res.json()) as { data?: { merchantMetrics: any }; errors?: unknown };
    if (!body.data) throw new Error(`no data: ${JSON.stringify(body.errors)}`);
    return body.data.merchantMetrics;
  };

  it('answers every merchant exactly, per local day, in New York (across the DST change) and in Kolkata', async () => {
    expect(await sendEvents(h.url, h.key, events, 500)).toBe(3000);
    for (const timeZone of ['America/New_York', 'Asia/Kolkata']) {
      for (let m = 0; m < 6; m++) {
        const merchantId = `e2e-${m}`;
        const expected = expectedDays(events, merchantId, timeZone);
        await eventually(async () => {
          const answer = await ask(merchantId, timeZone);
          const got = new Map<string, Map<string, DayValues>>();
          for (const series of answer.series) {
            const days = new Map<string, DayValues>();
            for (const p of series.points) {
              if (p.values.transactionCount + p.values.failedCount > 0 || p.values.refundAmount !== '0') {
                days.set(new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(p.start)), p.values);
              }
            }
            got.set(series.currency, days);
          }
          expect(got).toEqual(expected);
          expect(answer.freshness.version).toBe(1);
        }, 30_000);
      }
    }
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
