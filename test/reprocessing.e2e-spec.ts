import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMerchantToken } from '@app/access';
import { createPool } from '@app/database';
import { eventually } from '@app/testing';
import { startCommandApiHarness, type CommandApiHarness } from '../apps/command-api/src/testing/command-api-harness.js';
import { sendEvents } from '../apps/projector/src/testing/send-events.js';
import { seededRandom } from '../libs/merchant-metrics/src/testing/index.js';
import type { PaymentEventJson } from '../libs/projections/src/payment-event.json.js';
import { AppProcess, PROJECTOR, QUERY_API } from './support/app-process.js';
import { ops } from './support/ops-cli.js';
import { PacedProducer } from './support/paced-producer.js';

const SECRET = 'reprocessing-e2e-secret-0123456789ab';
const MERCHANTS = ['rp-0', 'rp-1', 'rp-2'];

interface Sale { merchantId: string; paymentId: string; at: number; amount: number }

const saleEvent = (sale: Sale, customer: number): PaymentEventJson => ({
  eventId: randomUUID(), merchantId: sale.merchantId, occurredAt: new Date(sale.at).toISOString(),
  paymentCompleted: { paymentId: sale.paymentId, customerId: `c-${customer % 7}`, storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits: String(sale.amount) } },
});

/** Half the sale's amount, one to five days after it: v1 and v2 disagree on those. */
const refundEvent = (sale: Sale, random: () => number): PaymentEventJson => ({
  eventId: randomUUID(), merchantId: sale.merchantId, occurredAt: new Date(sale.at + (1 + Math.floor(random() * 5)) * 86_400_000).toISOString(),
  paymentRefunded: { paymentId: sale.paymentId, refundId: `r-${sale.paymentId}`, storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits: String(Math.ceil(sale.amount / 2)) } },
});

/** A sale at a random second of 2026-11-01…10. */
const newSale = (random: () => number, merchantId: string, paymentId: string): Sale => ({
  merchantId, paymentId,
  at: Date.parse('2026-11-01T00:00:00Z') + Math.floor(random() * 10 * 86_400) * 1000,
  amount: 100 + Math.floor(random() * 9_900),
});

/** Sales, then refunds of every fourth sale. */
function history(seed: number, sales: number): PaymentEventJson[] {
  const random = seededRandom(seed);
  const sold = Array.from({ length: sales }, (_, i) => newSale(random, MERCHANTS[i % MERCHANTS.length], `pay-${seed}-${i}`));
  return [...sold.map((sale, i) => saleEvent(sale, i)), ...sold.filter((_, i) => i % 4 === 0).map((sale) => refundEvent(sale, random))];
}

/**
 * Batch k of a live stream: refunds of sales stored before it (in `earlier` or
 * an earlier batch, so v2 finds their payments; each sale refunded at most
 * once), then new sales.
 */
function liveStream(seed: number, earlier: readonly PaymentEventJson[], salesPerBatch: number, refundsPerBatch: number): (k: number) => PaymentEventJson[] {
  const random = seededRandom(seed);
  const refunded = new Set(earlier.flatMap((e) => (e.paymentRefunded ? [e.paymentRefunded.paymentId] : [])));
  const refundable: Sale[] = earlier.flatMap((e) => (e.paymentCompleted && !refunded.has(e.paymentCompleted.paymentId)
    ? [{ merchantId: e.merchantId, paymentId: e.paymentCompleted.paymentId, at: Date.parse(e.occurredAt), amount: Number(e.paymentCompleted.amount.minorUnits) }]
    : []));
  return (k) => {
    const batch: PaymentEventJson[] = [];
    for (let i = 0; i < refundsPerBatch && refundable.length > 0; i++) {
      batch.push(refundEvent(refundable.splice(Math.floor(random() * refundable.length), 1)[0], random));
    }
    const sold = Array.from({ length: salesPerBatch }, (_, i) => newSale(random, MERCHANTS[(k + i) % MERCHANTS.length], `live-${seed}-${k}-${i}`));
    batch.push(...sold.map((sale, i) => saleEvent(sale, k + i)));
    refundable.push(...sold);
    return batch;
  };
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
  let producer: PacedProducer | undefined;
  // An installation that started on v1 (before v3 was the default), reprocessed into v2.
  const env = () => ({ DATABASE_URL: h.database.url, NATS_URL: h.nats.url, MERCHANT_JWT_SECRET: SECRET, PROJECTOR_VERSIONS: 'merchant-metrics=1' });

  beforeAll(async () => {
    h = await startCommandApiHarness();
    pool = createPool({ connectionString: h.database.url, max: 2 });
    projector = await AppProcess.start(PROJECTOR, env());
    queryApi = await AppProcess.start(QUERY_API, env());
  });
  afterAll(async () => {
    await producer?.stop().catch(() => undefined);
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

  /** Events in the store: the sum of the partitions' heads (positions start at 1 and have no gaps). */
  const stored = async () => (await pool.query<{ n: number }>('select coalesce(sum(head), 0)::int as n from event_store.partition_heads')).rows[0].n;

  /**
   * Queries without pause from before `during` runs until the last 20 answers
   * came from `until`; a failed request or an answer that is not exactly v1's
   * or v2's (as its version says) fails the test. Returns the versions seen, in order.
   */
  async function queryWhile(events: PaymentEventJson[], until: 1 | 2 | 3, during: () => Promise<void>): Promise<number[]> {
    const token = await signMerchantToken(SECRET, { kind: 'merchant', merchantId: 'rp-0' }, { ttlSeconds: 600 });
    // v3 counts as v2 does (its change is the grain and the customer sketches).
    const v2 = expectedDays(events, 2).get('rp-0')!;
    const expected = { 1: expectedDays(events, 1).get('rp-0')!, 2: v2, 3: v2 };
    const versions: number[] = [];
    let done = false;
    let failure: unknown;
    const loop = (async () => {
      while (!done) {
        const answer = await ask(token, 'rp-0');
        expect(answer.days).toEqual(expected[answer.version as 1 | 2 | 3]);
        versions.push(answer.version);
      }
    })().catch((error: unknown) => { failure = error; });
    // Ends at once when the loop fails, instead of at the deadline.
    const waitFor = (assertion: () => void) => Promise.race([
      loop.then(() => { throw failure ?? new Error('the query loop stopped'); }),
      eventually(assertion, 10_000),
    ]);
    try {
      // The version before the switch is seen for certain only if an answer comes before it starts.
      await waitFor(() => expect(versions.length).toBeGreaterThan(0));
      await during();
      await waitFor(() => expect(versions.slice(-20)).toEqual(Array(20).fill(until)));
    } finally {
      done = true;
    }
    await loop;
    if (failure !== undefined) throw failure;
    return versions;
  }

  /** The versions in the order they served, each once: [1, 2] is one switch from v1 to v2, and no answer from v1 after it. */
  const servedInTurn = (versions: number[]) => versions.filter((v, i) => i === 0 || v !== versions[i - 1]);

  it('works end to end', async () => {
    const first = history(1, 300);
    expect(await sendEvents(h.url, h.key, first)).toBe(first.length);
    await eventually(async () => expect((await ask(await signMerchantToken(SECRET, { kind: 'ops' }, { ttlSeconds: 600 }), 'rp-1')).days)
      .toEqual(expectedDays(first, 1).get('rp-1')), 30_000);

    // Rebuild v2 while ingest goes on: batches of 20 (some refunding earlier sales, which v1 and v2 place
    // apart) about every 100 ms, from before the rebuild starts until after it exits.
    producer = new PacedProducer(h.url, h.key, liveStream(2, first, 15, 5), 100);
    await producer.accepted(2);
    const storedAtStart = await stored();
    const startedAt = performance.now();
    const rebuild = await ops(['projections', 'rebuild', 'merchant-metrics', '--version', '2', '--chunk', '50'], env());
    const exitedAt = performance.now();
    const storedAtExit = await stored();
    await producer.stop();
    expect(rebuild.code, rebuild.stderr).toBe(0);
    const built = /v2 built: ([\d,]+) events/.exec(rebuild.stdout);
    expect(built, rebuild.stdout).not.toBeNull();
    // Ingest overlapped the rebuild: the store grew through requests sent after it started and answered
    // before it exited, the bulk pass folded events that arrived after the rebuild had started, and
    // the producer's last request went out after the exit.
    expect(storedAtExit).toBeGreaterThan(storedAtStart);
    expect(producer.acceptedBetween(startedAt, exitedAt)).toBeGreaterThan(0);
    expect(Number(built![1].replaceAll(',', ''))).toBeGreaterThan(first.length + producer.acceptedBefore(startedAt));
    expect(producer.batches.at(-1)!.sentAt).toBeGreaterThan(exitedAt);
    const all = [...first, ...producer.sent];
    expect(await stored()).toBe(all.length);

    // Projectors follow v2 from JetStream once built (the CLI may exit before it has caught up): both
    // versions reach everything stored before any comparison.
    await eventually(async () => {
      const { rows } = await pool.query(
        `select c.version, count(*) filter (where c.position < h.head)::int as behind
         from projections.checkpoints c join event_store.partition_heads h using (partition)
         where c.projection = 'merchant-metrics' and c.version in (1, 2) group by c.version order by c.version`);
      expect(rows).toEqual([{ version: 1, behind: 0 }, { version: 2, behind: 0 }]);
    }, 30_000);

    const diff = await ops(['projections', 'diff', 'merchant-metrics', '--from', '1', '--to', '2', '--limit', '5'], env());
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout.split('\n')[0]).toBe(`${expectedDifferingCells(all)} cells differ, for 3 merchants (v1 → v2)`);

    const promoted = await queryWhile(all, 2, async () => {
      const promote = await ops(['projections', 'promote', 'merchant-metrics', '--version', '2'], env());
      expect(promote.code, promote.stderr).toBe(0);
    });
    expect(servedInTurn(promoted)).toEqual([1, 2]);

    const rolledBack = await queryWhile(all, 1, async () => {
      const rollback = await ops(['projections', 'rollback', 'merchant-metrics'], env());
      expect(rollback.code, rollback.stderr).toBe(0);
    });
    expect(servedInTurn(rolledBack)).toEqual([2, 1]);

    // The previous live version stays current: after more events, rolling back again returns to v2 at once.
    const third = history(3, 60);
    await sendEvents(h.url, h.key, third);
    const everything = [...all, ...third];
    const token = await signMerchantToken(SECRET, { kind: 'merchant', merchantId: 'rp-0' }, { ttlSeconds: 600 });
    await eventually(async () => expect((await ask(token, 'rp-0')).days).toEqual(expectedDays(everything, 1).get('rp-0')), 30_000);
    const again = await queryWhile(everything, 2, async () => {
      await eventually(async () => {
        const rollback = await ops(['projections', 'rollback', 'merchant-metrics'], env());
        expect(rollback.code, rollback.stderr).toBe(0);
      }, 30_000, 500);
    });
    expect(servedInTurn(again)).toEqual([1, 2]);

    // The upgrade path of the README: rebuild v3, diff it against v2 (same sums; customers exact in
    // these small cells), promote it with no failed or mixed answer.
    const upgrade = await ops(['projections', 'rebuild', 'merchant-metrics', '--version', '3', '--chunk', '50'], env());
    expect(upgrade.code, upgrade.stderr).toBe(0);
    await eventually(async () => {
      const { rows } = await pool.query(
        `select count(*) filter (where c.position < h.head)::int as behind
         from projections.checkpoints c join event_store.partition_heads h using (partition) where c.projection = 'merchant-metrics' and c.version = 3`);
      expect(rows).toEqual([{ behind: 0 }]);
    }, 30_000);
    const same = await ops(['projections', 'diff', 'merchant-metrics', '--from', '2', '--to', '3'], env());
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout.split('\n')[0]).toBe('0 cells differ, for 0 merchants (v2 → v3)');
    const upgraded = await queryWhile(everything, 3, async () => {
      const promote = await ops(['projections', 'promote', 'merchant-metrics', '--version', '3'], env());
      expect(promote.code, promote.stderr).toBe(0);
    });
    expect(servedInTurn(upgraded)).toEqual([2, 3]);
  });
});
