import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMerchantToken } from '@app/access';
import { createPool } from '@app/database';
import { eventually } from '@app/testing';
import { startCommandApiHarness, type CommandApiHarness } from '../apps/command-api/src/testing/command-api-harness.js';
import { sendEvents } from '../apps/projector/src/testing/send-events.js';
import { seededRandom } from '../libs/merchant-metrics/src/testing/index.js';
import type { PaymentEventJson } from '../libs/merchant-metrics/src/projection/payment-event.json.js';
import { AppProcess, PROJECTOR, QUERY_API } from './support/app-process.js';
import { ops } from './support/ops-cli.js';

const SECRET = 'reprocessing-e2e-secret-0123456789ab';
const MERCHANTS = ['rp-0', 'rp-1', 'rp-2'];

/** Sales over 2026-11-01…10 and refunds of earlier sales one to five days later (v1 and v2 disagree on those). */
function history(seed: number, sales: number): PaymentEventJson[] {
  const random = seededRandom(seed);
  const events: PaymentEventJson[] = [];
  const sold: Array<{ merchantId: string; paymentId: string; at: number; amount: number }> = [];
  for (let i = 0; i < sales; i++) {
    const merchantId = MERCHANTS[i % MERCHANTS.length];
    const at = Date.parse('2026-11-01T00:00:00Z') + Math.floor(random() * 10 * 86_400) * 1000;
    const amount = 100 + Math.floor(random() * 9_900);
    const paymentId = `pay-${seed}-${i}`;
    sold.push({ merchantId, paymentId, at, amount });
    events.push({
      eventId: randomUUID(), merchantId, occurredAt: new Date(at).toISOString(),
      paymentCompleted: { paymentId, customerId: `c-${i % 7}`, storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits: String(amount) } },
    });
  }
  for (const sale of sold.filter((_, i) => i % 4 === 0)) {
    const at = sale.at + (1 + Math.floor(random() * 5)) * 86_400_000;
    events.push({
      eventId: randomUUID(), merchantId: sale.merchantId, occurredAt: new Date(at).toISOString(),
      paymentRefunded: { paymentId: sale.paymentId, refundId: `r-${sale.paymentId}`, storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits: String(Math.ceil(sale.amount / 2)) } },
    });
  }
  return events;
}

interface Day { gross: bigint; refunded: bigint }

/** Per merchant and UTC day: gross and refunds, refunds on their own day (v1) or on their sale's day (v2). */
function expectedDays(events: PaymentEventJson[], version: 1 | 2): Map<string, Map<string, Day>> {
  const saleDay = new Map<string, string>();
  const out = new Map<string, Map<string, Day>>();
  const day = (m: string, d: string) => {
    const days = out.get(m) ?? new Map<string, Day>();
    out.set(m, days);
    const v = days.get(d) ?? { gross: 0n, refunded: 0n };
    days.set(d, v);
    return v;
  };
  for (const e of events) {
    if (e.paymentCompleted) {
      saleDay.set(e.paymentCompleted.paymentId, e.occurredAt.slice(0, 10));
      day(e.merchantId, e.occurredAt.slice(0, 10)).gross += BigInt(e.paymentCompleted.amount.minorUnits);
    }
  }
  for (const e of events) {
    if (e.paymentRefunded) {
      const d = version === 2 ? saleDay.get(e.paymentRefunded.paymentId)! : e.occurredAt.slice(0, 10);
      day(e.merchantId, d).refunded += BigInt(e.paymentRefunded.amount.minorUnits);
    }
  }
  return out;
}

/** The cells (merchant, 15-minute bucket) whose refunds differ between v1 and v2. */
function expectedDifferingCells(events: PaymentEventJson[]): number {
  const bucket = (iso: string) => { const t = Date.parse(iso); return t - (t % 900_000); };
  const saleBucket = new Map<string, number>();
  for (const e of events) if (e.paymentCompleted) saleBucket.set(e.paymentCompleted.paymentId, bucket(e.occurredAt));
  const v1 = new Map<string, bigint>();
  const v2 = new Map<string, bigint>();
  for (const e of events) {
    if (!e.paymentRefunded) continue;
    const amount = BigInt(e.paymentRefunded.amount.minorUnits);
    const k1 = `${e.merchantId}/${bucket(e.occurredAt)}`;
    const k2 = `${e.merchantId}/${saleBucket.get(e.paymentRefunded.paymentId)}`;
    v1.set(k1, (v1.get(k1) ?? 0n) + amount);
    v2.set(k2, (v2.get(k2) ?? 0n) + amount);
  }
  const keys = new Set([...v1.keys(), ...v2.keys()]);
  return [...keys].filter((k) => (v1.get(k) ?? 0n) !== (v2.get(k) ?? 0n)).length;
}

const QUERY = `query($m: ID!) {
  merchantMetrics(merchantId: $m, from: "2026-11-01T00:00:00Z", to: "2026-11-20T00:00:00Z", granularity: DAY) {
    freshness { version }
    series { points { start values { grossAmount refundAmount } } }
  }
}`;

describe('reprocessing: rebuild v2 under ingest, diff, promote and roll back with no failed query', () => {
  let h: CommandApiHarness;
  let pool: pg.Pool;
  let projector: AppProcess;
  let queryApi: AppProcess;
  const env = () => ({ DATABASE_URL: h.database.url, NATS_URL: h.nats.url, MERCHANT_JWT_SECRET: SECRET });

  beforeAll(async () => {
    h = await startCommandApiHarness();
    pool = createPool({ connectionString: h.database.url, max: 2 });
    projector = await AppProcess.start(PROJECTOR, env());
    queryApi = await AppProcess.start(QUERY_API, env());
  });
  afterAll(async () => {
    await queryApi?.stop();
    await projector?.stop();
    await pool?.end();
    await h?.close();
  });

  const ask = async (token: string, merchantId: string) => {
    const res = await fetch(`${queryApi.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: QUERY, variables: { m: merchantId } }),
    });
    const body = (await res.json()) as { data?: { merchantMetrics: { freshness: { version: number }; series: Array<{ points: Array<{ start: string; values: { grossAmount: string; refundAmount: string } }> }> } }; errors?: unknown };
    if (res.status !== 200 || !body.data) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body.errors)}`);
    const days = new Map<string, Day>();
    for (const p of body.data.merchantMetrics.series[0]?.points ?? []) {
      if (p.values.grossAmount !== '0' || p.values.refundAmount !== '0') {
        days.set(p.start.slice(0, 10), { gross: BigInt(p.values.grossAmount), refunded: BigInt(p.values.refundAmount) });
      }
    }
    return { version: body.data.merchantMetrics.freshness.version, days };
  };

  /** Queries without pause while `during` runs; every answer must be exactly v1's or v2's, as its version says. */
  async function queryWhile(events: PaymentEventJson[], during: () => Promise<void>): Promise<number[]> {
    const token = await signMerchantToken(SECRET, { kind: 'merchant', merchantId: 'rp-0' }, { ttlSeconds: 600 });
    const expected = { 1: expectedDays(events, 1).get('rp-0')!, 2: expectedDays(events, 2).get('rp-0')! };
    const versions: number[] = [];
    let done = false;
    const loop = (async () => {
      while (!done) {
        const answer = await ask(token, 'rp-0');
        expect(answer.days).toEqual(expected[answer.version as 1 | 2]);
        versions.push(answer.version);
      }
    })();
    try {
      await during();
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      done = true;
    }
    await loop;
    return versions;
  }

  it('works end to end', async () => {
    const first = history(1, 300);
    expect(await sendEvents(h.url, h.key, first)).toBe(first.length);
    await eventually(async () => expect((await ask(await signMerchantToken(SECRET, { kind: 'ops' }, { ttlSeconds: 600 }), 'rp-1')).days)
      .toEqual(expectedDays(first, 1).get('rp-1')), 30_000);

    // Rebuild v2 while ingest goes on.
    const second = history(2, 240);
    const ingest = sendEvents(h.url, h.key, second, 20);
    const rebuild = await ops(['projections', 'rebuild', 'merchant-metrics', '--version', '2', '--chunk', '50'], env());
    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toMatch(/v2 built: [\d,]+ events/);
    await ingest;
    const all = [...first, ...second];

    // Projectors follow v2 from JetStream once built; it catches up with everything stored.
    await eventually(async () => {
      const { rows } = await pool.query(
        `select count(*)::int as behind from projections.checkpoints c join event_store.partition_heads h using (partition)
         where c.version = 2 and c.position < h.head`);
      expect(rows[0].behind).toBe(0);
    }, 30_000);

    const diff = await ops(['projections', 'diff', 'merchant-metrics', '--from', '1', '--to', '2', '--limit', '5'], env());
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout.split('\n')[0]).toBe(`${expectedDifferingCells(all)} cells differ, for 3 merchants (v1 → v2)`);

    const promoted = await queryWhile(all, async () => {
      const promote = await ops(['projections', 'promote', 'merchant-metrics', '--version', '2'], env());
      expect(promote.code, promote.stderr).toBe(0);
    });
    expect(promoted.at(-1)).toBe(2);
    expect(promoted.indexOf(2)).toBeGreaterThan(-1);

    const rolledBack = await queryWhile(all, async () => {
      const rollback = await ops(['projections', 'rollback', 'merchant-metrics'], env());
      expect(rollback.code, rollback.stderr).toBe(0);
    });
    expect(rolledBack[0]).toBe(2);
    expect(rolledBack.at(-1)).toBe(1);

    // The previous live version stays current: after more events, rolling back again returns to v2 at once.
    const third = history(3, 60);
    await sendEvents(h.url, h.key, third);
    const everything = [...all, ...third];
    const token = await signMerchantToken(SECRET, { kind: 'merchant', merchantId: 'rp-0' }, { ttlSeconds: 600 });
    await eventually(async () => expect((await ask(token, 'rp-0')).days).toEqual(expectedDays(everything, 1).get('rp-0')), 30_000);
    const again = await queryWhile(everything, async () => {
      await eventually(async () => {
        const rollback = await ops(['projections', 'rollback', 'merchant-metrics'], env());
        expect(rollback.code, rollback.stderr).toBe(0);
      }, 30_000, 500);
    });
    expect(again.at(-1)).toBe(2);
  });
});
