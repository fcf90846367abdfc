import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { readPartitionCount } from '@app/event-store';
import {
  goLiveIfFirst, installVersion, promoteVersion, readLive, readStoredEvents, rebuildVersion, shortMethod,
  type PositionedEvent, type ProjectionVersion,
} from '@app/projections';
import { testDatabase, type TestDatabase } from '@app/testing';
import { merchantPaymentsProjection, PAYMENTS_PROJECTION } from './merchant-payments.definition.js';
import { findPayment, readPaymentHistory, searchPayments, type PaymentSummary } from './payment-search.js';
import { paymentLifecycles, storeEvents } from './testing/payment-lifecycles.js';

/** RFC 3339 as PostgreSQL's timestamptz keeps it (microseconds, UTC). */
const micros = (iso: string) => `${new Date(iso).toISOString().slice(0, 23)}000Z`;

interface Expected {
  merchantId: string; paymentId: string; status: string; occurredAt: string; currency: string; amountMinor: string | null;
  refundedMinor: string; refundCount: number; overRefunded: boolean; completedCount: number; failedCount: number;
  storeId: string; method: string; customerId: string | null; failureReason: string | null; positions: number[];
}

/**
 * Each payment's state computed from all its events at once, in position
 * order (not incrementally, as the projection does): the reference the
 * projection's rows must equal, whatever batches built them.
 */
function expectedPayments(byPartition: Map<number, PositionedEvent[]>, withReason: boolean): Map<string, Expected> {
  const events = new Map<string, PositionedEvent[]>();
  for (const list of byPartition.values()) {
    for (const e of list) {
      const body = e.event.paymentCompleted ?? e.event.paymentFailed ?? e.event.paymentRefunded;
      if (!body) continue;
      const key = `${e.event.merchantId}/${body.paymentId}`;
      events.set(key, [...(events.get(key) ?? []), e]);
    }
  }
  const out = new Map<string, Expected>();
  for (const [key, list] of events) {
    const completions = list.filter((e) => e.event.paymentCompleted);
    const failures = list.filter((e) => e.event.paymentFailed);
    const refunds = list.filter((e) => e.event.paymentRefunded);
    const describing = completions[0] ?? failures[0] ?? refunds[0]!;
    const body = (describing.event.paymentCompleted ?? describing.event.paymentFailed ?? describing.event.paymentRefunded)!;
    const refunded = refunds.reduce((sum, e) => sum + BigInt(e.event.paymentRefunded!.amount.minorUnits), 0n);
    const amount = describing.event.paymentRefunded ? null : BigInt(body.amount.minorUnits);
    const status = completions.length > 0
      ? (refunded >= amount! ? 'REFUNDED' : refunded > 0n ? 'PARTIALLY_REFUNDED' : 'COMPLETED')
      : failures.length > 0 ? 'FAILED' : 'REFUND_ONLY';
    out.set(key, {
      merchantId: describing.event.merchantId, paymentId: body.paymentId, status, occurredAt: micros(describing.event.occurredAt),
      currency: body.amount.currency, amountMinor: amount?.toString() ?? null, refundedMinor: refunded.toString(), refundCount: refunds.length,
      overRefunded: completions.length > 0 && refunded > amount!, completedCount: completions.length, failedCount: failures.length,
      storeId: body.storeId, method: shortMethod(body.method), customerId: 'customerId' in body ? body.customerId : null,
      failureReason: withReason ? (failures[0]?.event.paymentFailed!.reason ?? null) : null,
      positions: list.map((e) => e.position),
    });
  }
  return out;
}

const comparable = (p: PaymentSummary): Expected => ({
  merchantId: p.merchantId, paymentId: p.paymentId, status: p.status, occurredAt: p.occurredAt, currency: p.currency, amountMinor: p.amountMinor,
  refundedMinor: p.refundedMinor, refundCount: p.refundCount, overRefunded: p.overRefunded, completedCount: p.completedCount, failedCount: p.failedCount,
  storeId: p.storeId, method: p.method, customerId: p.customerId, failureReason: p.failureReason, positions: p.positions,
});

describe('merchant-payments', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let byPartition: Map<number, PositionedEvent[]>;
  let v1: ProjectionVersion;
  const MERCHANTS = 6;
  const merchant = (n: number) => `mp-${n}`;

  /** All rows of a version, as the search reads them (every merchant, 100 a page). */
  const allRows = async (schema: string): Promise<Map<string, Expected>> => {
    const out = new Map<string, Expected>();
    for (let m = 0; m < MERCHANTS; m++) {
      let after: string | undefined;
      for (;;) {
        const page = await searchPayments(pool, schema, { merchantId: merchant(m), filter: {}, first: 100, after });
        for (const p of page.payments) out.set(`${p.merchantId}/${p.paymentId}`, comparable(p));
        if (!page.hasNextPage) break;
        after = page.endCursor!;
      }
    }
    return out;
  };

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 4 });
    byPartition = await storeEvents(pool, paymentLifecycles({
      seed: 11, payments: 1500, merchants: MERCHANTS, prefix: 'mp-', from: new Date('2026-10-01T00:00:00Z'), days: 30,
    }));
    // The live path: each partition in batches of 7 events, as a projector applies them.
    const client = await pool.connect();
    try {
      v1 = await installVersion(client, merchantPaymentsProjection, { version: 1, partitions: await readPartitionCount(pool), codeRevision: 'test' });
      const runtime = merchantPaymentsProjection.open(v1, { cacheBytes: 0 });
      const source = readStoredEvents(pool);
      for (const p of byPartition.keys()) {
        let checkpoint = 0;
        for (let batch = await source.read(p, 0, 7); batch.length > 0; batch = await source.read(p, checkpoint, 7)) {
          checkpoint = await runtime.apply(client, p, checkpoint, batch);
        }
      }
      await goLiveIfFirst(client, PAYMENTS_PROJECTION, 1);
    } finally {
      client.release();
    }
  }, 120_000);
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('keeps every payment in the state its events give, whatever their order (refund first, over-refund, failure after completion)', async () => {
    const expected = expectedPayments(byPartition, false);
    const statuses = new Set([...expected.values()].map((e) => e.status));
    // The data set has every case the state rules distinguish.
    expect(statuses).toEqual(new Set(['COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'FAILED', 'REFUND_ONLY']));
    expect([...expected.values()].some((e) => e.overRefunded)).toBe(true);
    expect([...expected.values()].some((e) => e.status === 'COMPLETED' && e.failedCount > 0)).toBe(true);
    // Some refunds are stored before the payment they refund, some failures before a completion of theirs.
    const storedBefore = (first: 'paymentRefunded' | 'paymentFailed') => [...byPartition.values()].flat().some((e) => {
      const id = e.event[first]?.paymentId;
      return id !== undefined && [...byPartition.values()].flat()
        .some((c) => c.event.merchantId === e.event.merchantId && c.event.paymentCompleted?.paymentId === id && c.position > e.position);
    });
    expect(storedBefore('paymentRefunded')).toBe(true);
    expect(storedBefore('paymentFailed')).toBe(true);
    expect(await allRows(v1.schemaName)).toEqual(expected);
  });

  it('rebuilds v2 from the store exactly as the events give it, differing from v1 only in the failure reasons, and promotes it', async () => {
    const result = await rebuildVersion(pool, merchantPaymentsProjection, { version: 2, codeRevision: 'test', chunkEvents: 500 });
    expect(result.version.status).toBe('catching_up');
    const v2 = result.version;
    expect(await allRows(v2.schemaName)).toEqual(expectedPayments(byPartition, true));

    const withReason = [...expectedPayments(byPartition, true).values()].filter((e) => e.failureReason !== null);
    const diff = await merchantPaymentsProjection.diff(pool, v1, v2, { limit: 10_000 });
    expect(diff.rows).toBe(withReason.length);
    expect(diff.listed.every((d) => Object.keys(d.fields).join() === 'failure_reason')).toBe(true);
    expect(new Set(diff.listed.map((d) => `${d.key.merchant}/${d.key.payment}`))).toEqual(new Set(withReason.map((e) => `${e.merchantId}/${e.paymentId}`)));

    const client = await pool.connect();
    try {
      expect(await promoteVersion(client, PAYMENTS_PROJECTION, 2)).toEqual({ version: 2, previousVersion: 1 });
    } finally {
      client.release();
    }
    expect((await readLive(pool, PAYMENTS_PROJECTION))?.version).toBe(2);
    // The analysts' view followed the live version.
    const { rows } = await pool.query(`select count(*)::int as n, min(read_model_version) as v from analytics.merchant_payments where failure_reason is not null`);
    expect(rows[0]).toEqual({ n: withReason.length, v: 2 });
  }, 60_000);

  describe('search', () => {
    const expected = () => [...expectedPayments(byPartition, false).values()];
    /** Newest first: by time, then payment id (byte order), descending. */
    const newestFirst = (list: Expected[]) =>
      [...list].sort((a, b) => (a.occurredAt === b.occurredAt ? (a.paymentId < b.paymentId ? 1 : -1) : a.occurredAt < b.occurredAt ? 1 : -1));
    const pageThrough = async (merchantId: string, filter: Parameters<typeof searchPayments>[2]['filter'], first: number) => {
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await searchPayments(pool, v1.schemaName, { merchantId, filter, first, after });
        seen.push(...page.payments.map((p) => p.paymentId));
        if (!page.hasNextPage) return seen;
        after = page.endCursor!;
      }
    };

    it.each([
      ['customer', (e: Expected) => e.customerId === 'cust-3', { customerId: 'cust-3' }],
      ['customer and status', (e: Expected) => e.customerId === 'cust-3' && e.status === 'COMPLETED', { customerId: 'cust-3', status: 'COMPLETED' as const }],
      ['customer and amount range', (e: Expected) => e.customerId === 'cust-5' && e.amountMinor !== null && BigInt(e.amountMinor) >= 2000n && BigInt(e.amountMinor) <= 6000n,
        { customerId: 'cust-5', minAmount: 2000n, maxAmount: 6000n }],
      ['store', (e: Expected) => e.storeId === 'store-2', { storeId: 'store-2' }],
      ['method', (e: Expected) => e.method === 'QR', { method: 'QR' }],
      ['status', (e: Expected) => e.status === 'PARTIALLY_REFUNDED', { status: 'PARTIALLY_REFUNDED' as const }],
      ['time range', (e: Expected) => e.occurredAt >= '2026-10-10T00:00:00.000000Z' && e.occurredAt < '2026-10-12T00:00:00.000000Z',
        { from: new Date('2026-10-10T00:00:00Z'), to: new Date('2026-10-12T00:00:00Z') }],
      ['nothing', () => true, {}],
    ])('by %s: every match, newest first, across pages of 7', async (_name, match, filter) => {
      const want = newestFirst(expected().filter((e) => e.merchantId === merchant(0) && match(e))).map((e) => e.paymentId);
      expect(want.length).toBeGreaterThan(0);
      expect(await pageThrough(merchant(0), filter, 7)).toEqual(want);
    });

    it('finds one payment by id, and nothing of another merchant', async () => {
      const one = expected().find((e) => e.merchantId === merchant(1))!;
      const page = await searchPayments(pool, v1.schemaName, { merchantId: merchant(1), filter: { paymentId: one.paymentId }, first: 5 });
      expect(page.payments.map(comparable)).toEqual([one]);
      expect((await searchPayments(pool, v1.schemaName, { merchantId: merchant(2), filter: { paymentId: one.paymentId }, first: 5 })).payments).toEqual([]);
      expect(comparable((await findPayment(pool, v1.schemaName, merchant(1), one.paymentId))!)).toEqual(one);
    });

    it('keeps its pages stable while newer payments are recorded', async () => {
      const first = await searchPayments(pool, v1.schemaName, { merchantId: merchant(0), filter: {}, first: 10 });
      // Newer than every page: they must not shift the pages after the first.
      const client = await pool.connect();
      try {
        const runtime = merchantPaymentsProjection.open(v1, { cacheBytes: 0 });
        const schemaRows = await pool.query(`select partition from ${v1.schemaName}.payments where merchant_id = $1 limit 1`, [merchant(0)]);
        const partition = Number(schemaRows.rows[0].partition);
        const more = await storeEvents(pool, Array.from({ length: 5 }, (_, i) => ({
          eventId: randomUUID(), merchantId: merchant(0), occurredAt: `2026-12-0${i + 1}T00:00:00Z`,
          paymentCompleted: { paymentId: `late-${i}`, customerId: 'cust-1', storeId: 'store-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits: '100' } },
        })));
        const stored = more.get(partition)!;
        const checkpoint = (await pool.query(`select position from projections.checkpoints where projection = $1 and version = 1 and partition = $2`, [PAYMENTS_PROJECTION, partition])).rows[0].position;
        await runtime.apply(client, partition, Number(checkpoint), stored.filter((e) => e.position > Number(checkpoint)));
      } finally {
        client.release();
      }
      const rest = await pageThrough(merchant(0), {}, 10).then((all) => all);
      const second = await searchPayments(pool, v1.schemaName, { merchantId: merchant(0), filter: {}, first: 10, after: first.endCursor! });
      const before = newestFirst(expected().filter((e) => e.merchantId === merchant(0))).map((e) => e.paymentId);
      expect(first.payments.map((p) => p.paymentId)).toEqual(before.slice(0, 10));
      expect(second.payments.map((p) => p.paymentId)).toEqual(before.slice(10, 20));
      expect(rest.slice(0, 5)).toEqual(['late-4', 'late-3', 'late-2', 'late-1', 'late-0']);
    });

    it.each([
      ['no index serves this filter (storeId and status together need customerId or paymentId)', { storeId: 'store-1', status: 'FAILED' as const }],
      ['no index serves this filter (an amount range needs customerId or paymentId)', { minAmount: 100n }],
      ['customerId must have 1 to 128 characters', { customerId: '' }],
      ['minAmount must not exceed maxAmount', { customerId: 'c', minAmount: 10n, maxAmount: 5n }],
      ['from must be before to', { from: new Date('2026-10-02T00:00:00Z'), to: new Date('2026-10-01T00:00:00Z') }],
    ])('refuses: %s, reading nothing', async (message, filter) => {
      await expect(searchPayments(pool, v1.schemaName, { merchantId: merchant(0), filter, first: 10 })).rejects.toThrow(message);
    });

    it('refuses page sizes out of bounds, cursors it did not give and cursors of another filter', async () => {
      const search = (first: number, after?: string, filter = {}) => searchPayments(pool, v1.schemaName, { merchantId: merchant(0), filter, first, after });
      await expect(search(0)).rejects.toThrow('first must be an integer from 1 to 100');
      await expect(search(101)).rejects.toThrow('first must be an integer from 1 to 100');
      await expect(search(5, 'bm9wZQ')).rejects.toThrow('after is not a cursor this API gave');
      const page = await search(5, undefined, { storeId: 'store-1' });
      await expect(search(5, page.endCursor!, { storeId: 'store-2' })).rejects.toThrow('after is a cursor of another question');
    });
  });

  it("reads a payment's history from the store, and the query API's role reads no other merchant's events", async () => {
    const payment = (await findPayment(pool, v1.schemaName, merchant(0), expected0().paymentId))!;
    const role = `mp_reader_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
    await pool.query(`create role ${role} login password 'x' in role read_model_reader`);
    const url = new URL(database.url);
    url.username = role;
    url.password = 'x';
    const reader = new pg.Client({ connectionString: url.toString() });
    await reader.connect();
    try {
      const history = await readPaymentHistory(reader, payment);
      expect(history.missing).toBe(0);
      expect(history.events.map((e) => e.position)).toEqual(payment.positions);
      const stored = byPartition.get(payment.partition)!.filter((e) => payment.positions.includes(e.position));
      expect(history.events.map((e) => JSON.parse(e.payloadJson))).toEqual(stored.map((e) => e.event));
      // Another merchant's name with this payment's positions: nothing.
      expect((await readPaymentHistory(reader, { ...payment, merchantId: merchant(1) })).events).toEqual([]);
      await expect(reader.query(`select payload from event_store.events limit 1`)).rejects.toThrow(/permission denied/);
    } finally {
      await reader.end();
      await pool.query(`drop role ${role}`);
    }
  });

  /** A payment of merchant 0 with more than one event. */
  const expected0 = () => [...expectedPayments(byPartition, false).values()].find((e) => e.merchantId === merchant(0) && e.positions.length > 1)!;
});
