import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { partitionOf, readPartitionCount } from '@app/event-store';
import { testDatabase, type TestDatabase } from '@app/testing';
import { merchantMetricsDefinition } from '../projection/merchant-metrics.definition.js';
import { applyEvents } from '../projection/apply-events.js';
import { merchantMetricsV1, merchantMetricsV2, PROJECTION_NAME, type MerchantMetricsLogic } from '../projection/merchant-metrics.projection.js';
import { type PaymentEventJson, installVersion } from '@app/projections';
import { diffVersions, type CellDifference, type DiffFilter } from './diff-versions.js';

type Method = 'CARD' | 'WALLET' | 'QR';
interface Dims { currency: string; method: Method; storeId: string }
const JPY_CARD: Dims = { currency: 'JPY', method: 'CARD', storeId: 's-1' };
const USD_WALLET: Dims = { currency: 'USD', method: 'WALLET', storeId: 's-1' };
const EUR_QR: Dims = { currency: 'EUR', method: 'QR', storeId: 's-1' };

const sale = (merchantId: string, occurredAt: string, paymentId: string, minorUnits: number, d: Dims): PaymentEventJson => ({
  eventId: crypto.randomUUID(), merchantId, occurredAt,
  paymentCompleted: { paymentId, customerId: `c-${paymentId}`, storeId: d.storeId, method: `PAYMENT_METHOD_${d.method}`, amount: { currency: d.currency, minorUnits: String(minorUnits) } },
});
const failure = (merchantId: string, occurredAt: string, paymentId: string, minorUnits: number, d: Dims): PaymentEventJson => ({
  eventId: crypto.randomUUID(), merchantId, occurredAt,
  paymentFailed: { paymentId, customerId: 'c-x', storeId: d.storeId, method: `PAYMENT_METHOD_${d.method}`, amount: { currency: d.currency, minorUnits: String(minorUnits) }, reason: 'declined' },
});
const refund = (merchantId: string, occurredAt: string, paymentId: string, minorUnits: number, d: Dims): PaymentEventJson => ({
  eventId: crypto.randomUUID(), merchantId, occurredAt,
  paymentRefunded: { paymentId, refundId: `r-${crypto.randomUUID()}`, storeId: d.storeId, method: `PAYMENT_METHOD_${d.method}`, amount: { currency: d.currency, minorUnits: String(minorUnits) } },
});

const MANY = 30;
const hour = (base: string, i: number) => new Date(Date.parse(base) + i * 3_600_000).toISOString();

/** In store order. Each merchant sits in one partition, so list order is position order within it. */
const EVENTS: PaymentEventJson[] = [
  // dv-a: two refunds of one bucket move to two earlier ones; a refund in its payment's bucket stays;
  // a refund from another store moves to the payment's bucket but keeps its own store.
  sale('dv-a', '2026-10-01T08:05:00Z', 'pa1', 1000, JPY_CARD),
  sale('dv-a', '2026-10-01T08:20:00Z', 'pa2', 2000, JPY_CARD),
  sale('dv-a', '2026-10-01T09:00:00Z', 'pa3', 500, JPY_CARD),
  failure('dv-a', '2026-10-01T09:10:00Z', 'pa4', 900, JPY_CARD),
  refund('dv-a', '2026-10-02T12:00:00Z', 'pa1', 300, JPY_CARD),
  refund('dv-a', '2026-10-02T12:10:00Z', 'pa2', 400, JPY_CARD),
  refund('dv-a', '2026-10-01T09:14:59Z', 'pa3', 50, JPY_CARD),
  refund('dv-a', '2026-10-03T00:00:00Z', 'pa1', 100, { ...JPY_CARD, storeId: 's-2' }),
  // dv-b: a bucket keeping one of its two refunds; a refund in, an equal one out (13:00 ends unchanged);
  // a refund of a payment never seen, and one stored before its payment, both staying where they happened.
  sale('dv-b', '2026-10-01T10:00:00Z', 'pb1', 800, USD_WALLET),
  sale('dv-b', '2026-10-01T11:00:00Z', 'pb2', 600, USD_WALLET),
  refund('dv-b', '2026-10-01T11:05:00Z', 'pb1', 200, USD_WALLET),
  refund('dv-b', '2026-10-01T11:10:00Z', 'pb2', 200, USD_WALLET),
  sale('dv-b', '2026-10-01T12:00:00Z', 'pb3', 300, USD_WALLET),
  sale('dv-b', '2026-10-01T13:00:00Z', 'pb4', 300, USD_WALLET),
  refund('dv-b', '2026-10-01T13:05:00Z', 'pb3', 150, USD_WALLET),
  refund('dv-b', '2026-10-01T14:00:00Z', 'pb4', 150, USD_WALLET),
  refund('dv-b', '2026-10-01T15:00:00Z', 'p-none', 70, USD_WALLET),
  refund('dv-b', '2026-10-02T09:00:00Z', 'pb5', 60, USD_WALLET),
  sale('dv-b', '2026-10-01T16:00:00Z', 'pb5', 600, USD_WALLET),
  // dv-c: activity, but every refund in its payment's bucket: no difference.
  sale('dv-c', '2026-10-01T10:00:00Z', 'pc1', 400, EUR_QR),
  failure('dv-c', '2026-10-01T10:01:00Z', 'pc2', 400, EUR_QR),
  refund('dv-c', '2026-10-01T10:14:00Z', 'pc1', 40, EUR_QR),
  // dv-m: more differing cells than the default listing (50): each refund moves from its own hour to its sale's.
  ...Array.from({ length: MANY }, (_, i) => sale('dv-m', hour('2026-10-05T00:00:00Z', i), `pm${i}`, 100 + i, JPY_CARD)),
  ...Array.from({ length: MANY }, (_, i) => refund('dv-m', hour('2026-10-10T00:00:00Z', i), `pm${i}`, 10 + i, JPY_CARD)),
];

const at = (iso: string) => new Date(iso);
const moved = (count: [number, number], amount: [number, number]) => ({
  refund_count: count.map(String) as [string, string], refund_amount: amount.map(String) as [string, string],
});
const cell = (merchantId: string, bucket: string, d: Dims, fields: CellDifference['fields']): CellDifference => ({
  merchantId, bucket: at(bucket), currency: d.currency, paymentMethod: d.method, storeId: d.storeId, fields,
});

/** v1 → v2, written out by hand from the events above, in the order the diff lists them. */
const HAND_WRITTEN: CellDifference[] = [
  cell('dv-a', '2026-10-01T08:00:00Z', JPY_CARD, moved([0, 1], [0, 300])),
  cell('dv-a', '2026-10-01T08:00:00Z', { ...JPY_CARD, storeId: 's-2' }, moved([0, 1], [0, 100])),
  cell('dv-a', '2026-10-01T08:15:00Z', JPY_CARD, moved([0, 1], [0, 400])),
  cell('dv-a', '2026-10-02T12:00:00Z', JPY_CARD, moved([2, 0], [700, 0])),
  cell('dv-a', '2026-10-03T00:00:00Z', { ...JPY_CARD, storeId: 's-2' }, moved([1, 0], [100, 0])),
  cell('dv-b', '2026-10-01T10:00:00Z', USD_WALLET, moved([0, 1], [0, 200])),
  cell('dv-b', '2026-10-01T11:00:00Z', USD_WALLET, moved([2, 1], [400, 200])),
  cell('dv-b', '2026-10-01T12:00:00Z', USD_WALLET, moved([0, 1], [0, 150])),
  cell('dv-b', '2026-10-01T14:00:00Z', USD_WALLET, moved([1, 0], [150, 0])),
  ...Array.from({ length: MANY }, (_, i) => cell('dv-m', hour('2026-10-05T00:00:00Z', i), JPY_CARD, moved([0, 1], [0, 10 + i]))),
  ...Array.from({ length: MANY }, (_, i) => cell('dv-m', hour('2026-10-10T00:00:00Z', i), JPY_CARD, moved([1, 0], [10 + i, 0]))),
];

const SUMS = ['completed_count', 'gross_amount', 'refund_count', 'refund_amount', 'failed_count'] as const;
type Sums = Record<(typeof SUMS)[number], bigint>;

/**
 * The differing cells worked out from the events with none of the projection's
 * code: v1 puts a refund in its own 15-minute bucket, v2 in that of the first
 * completion of its payment earlier in the list (else its own).
 */
function referenceDiff(events: readonly PaymentEventJson[], fromVersion: 1 | 2, toVersion: 1 | 2): CellDifference[] {
  const bucketOf = (iso: string) => { const t = Date.parse(iso); return t - (t % 900_000); };
  const fold = (version: 1 | 2) => {
    const cells = new Map<string, Sums>();
    const paid = new Map<string, number>();
    const add = (merchantId: string, bucket: number, body: { currency: string; method: string; storeId: string }, f: (s: Sums) => void) => {
      const key = JSON.stringify([merchantId, bucket, body.currency, body.method.replace('PAYMENT_METHOD_', ''), body.storeId]);
      const sums = cells.get(key) ?? { completed_count: 0n, gross_amount: 0n, refund_count: 0n, refund_amount: 0n, failed_count: 0n };
      cells.set(key, sums);
      f(sums);
    };
    for (const e of events) {
      const own = bucketOf(e.occurredAt);
      if (e.paymentCompleted) {
        const body = e.paymentCompleted;
        const key = `${e.merchantId}/${body.paymentId}`;
        if (!paid.has(key)) paid.set(key, own);
        add(e.merchantId, own, { currency: body.amount.currency, method: body.method, storeId: body.storeId }, (s) => {
          s.completed_count += 1n;
          s.gross_amount += BigInt(body.amount.minorUnits);
        });
      } else if (e.paymentFailed) {
        const body = e.paymentFailed;
        add(e.merchantId, own, { currency: body.amount.currency, method: body.method, storeId: body.storeId }, (s) => { s.failed_count += 1n; });
      } else if (e.paymentRefunded) {
        const body = e.paymentRefunded;
        const bucket = version === 2 ? paid.get(`${e.merchantId}/${body.paymentId}`) ?? own : own;
        add(e.merchantId, bucket, { currency: body.amount.currency, method: body.method, storeId: body.storeId }, (s) => {
          s.refund_count += 1n;
          s.refund_amount += BigInt(body.amount.minorUnits);
        });
      }
    }
    return cells;
  };
  const [a, b] = [fold(fromVersion), fold(toVersion)];
  const zero = (): Sums => ({ completed_count: 0n, gross_amount: 0n, refund_count: 0n, refund_amount: 0n, failed_count: 0n });
  const out: CellDifference[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const [sa, sb] = [a.get(key) ?? zero(), b.get(key) ?? zero()];
    const fields: CellDifference['fields'] = {};
    for (const f of SUMS) if (sa[f] !== sb[f]) fields[f] = [String(sa[f]), String(sb[f])];
    if (Object.keys(fields).length === 0) continue;
    const [merchantId, bucket, currency, paymentMethod, storeId] = JSON.parse(key) as [string, number, string, string, string];
    out.push({ merchantId, bucket: new Date(bucket), currency, paymentMethod, storeId, fields });
  }
  // The ids and codes here are plain ASCII of one shape, so code-unit order is the database's order.
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return out.sort((x, y) => cmp(x.merchantId, y.merchantId) || x.bucket.getTime() - y.bucket.getTime()
    || cmp(x.currency, y.currency) || cmp(x.paymentMethod, y.paymentMethod) || cmp(x.storeId, y.storeId));
}

/** What a filter keeps of a full list, selected here by the documented rule: bucket start in [from, to). */
function filtered(all: CellDifference[], filter: DiffFilter) {
  const kept = all.filter((d) => (filter.merchantId === undefined || d.merchantId === filter.merchantId)
    && (filter.from === undefined || d.bucket >= filter.from) && (filter.to === undefined || d.bucket < filter.to));
  return { cells: kept.length, merchants: new Set(kept.map((d) => d.merchantId)).size, listed: kept.slice(0, filter.limit ?? 50) };
}

describe('diffVersions: the cells where two versions differ, with both values', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  const schemas: Record<string, string> = {};

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
    const partitions = await readPartitionCount(pool);
    const client = await pool.connect();
    try {
      // v1 and v2 as the projector builds them; v3 (v1's logic) and v4 (v2's) the same again in other batch sizes.
      const builds: Array<[number, MerchantMetricsLogic, number]> = [[1, merchantMetricsV1, 3], [2, merchantMetricsV2, 3], [3, merchantMetricsV1, 5], [4, merchantMetricsV2, 5]];
      for (const [name, logic, batch] of builds) {
        // This spec's v3 and v4 are installed under numbers no real version takes (v3 has its own tables).
        const version = name < 3 ? name : name + 10;
        const installed = await installVersion(client, merchantMetricsDefinition(() => logic), { version, partitions, codeRevision: 'test', engine: 'postgres' });
        schemas[name] = installed.schemaName;
        const target = { projection: PROJECTION_NAME, version, schemaName: installed.schemaName, engine: 'postgres' as const, logic };
        const byPartition = new Map<number, PaymentEventJson[]>();
        for (const e of EVENTS) {
          const p = partitionOf(e.merchantId, partitions);
          byPartition.set(p, [...(byPartition.get(p) ?? []), e]);
        }
        for (const [p, events] of byPartition) {
          const positioned = events.map((event, i) => ({ position: i + 1, recordedAt: '2026-11-21T00:00:00.000000Z', event }));
          for (let i = 0, checkpoint = 0; i < positioned.length; i += batch) {
            checkpoint = await applyEvents(client, target, p, checkpoint, positioned.slice(i, i + batch));
          }
        }
      }
    } finally {
      client.release();
    }
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  const diff = (from: number, to: number, filter: DiffFilter = {}) => diffVersions(pool, schemas[from]!, schemas[to]!, filter);
  const ALL = { limit: 1000 };

  it('the reference worked out from the events is the hand-written list, and only refund fields move', () => {
    expect(referenceDiff(EVENTS, 1, 2)).toEqual(HAND_WRITTEN);
    expect(HAND_WRITTEN).toHaveLength(9 + 2 * MANY);
    expect(referenceDiff(EVENTS, 1, 1)).toEqual([]);
  });

  it('v1 → v2: every differing cell, both values, only the refund fields', async () => {
    const result = await diff(1, 2, ALL);
    expect(result).toEqual({ cells: HAND_WRITTEN.length, merchants: 3, listed: referenceDiff(EVENTS, 1, 2) });
    for (const d of result.listed) expect(Object.keys(d.fields).sort()).toEqual(['refund_amount', 'refund_count']);
  });

  it('v2 → v1: the same cells with the values swapped', async () => {
    const swapped = HAND_WRITTEN.map((d) => ({
      ...d, fields: Object.fromEntries(Object.entries(d.fields).map(([f, [a, b]]) => [f, [b, a]])),
    }));
    expect(referenceDiff(EVENTS, 2, 1)).toEqual(swapped);
    expect(await diff(2, 1, ALL)).toEqual({ cells: HAND_WRITTEN.length, merchants: 3, listed: swapped });
  });

  it('lists a cell whose distinct customers differ, even when its sums agree', async () => {
    const s3 = schemas[3]!;
    const { rows: [cell] } = await pool.query(
      `select merchant_id, bucket, currency, payment_method, store_id, count(*)::int as n, min(customer_id) as customer
       from ${s3}.customers_15m group by 1, 2, 3, 4, 5 order by n desc, 1, 2, 3, 4, 5 limit 1`,
    );
    const key = [cell.merchant_id, cell.bucket, cell.currency, cell.payment_method, cell.store_id];
    const match = `merchant_id = $1 and bucket = $2 and currency = $3 and payment_method = $4 and store_id = $5`;
    expect((await pool.query(`delete from ${s3}.customers_15m where ${match} and customer_id = $6`, [...key, cell.customer])).rowCount).toBe(1);
    try {
      expect(await diff(1, 3)).toEqual({
        cells: 1, merchants: 1,
        listed: [{
          merchantId: cell.merchant_id, bucket: cell.bucket, currency: cell.currency, paymentMethod: cell.payment_method, storeId: cell.store_id,
          fields: { unique_customers: [String(cell.n), String(cell.n - 1)] },
        }],
      });
    } finally {
      await pool.query(`insert into ${s3}.customers_15m (merchant_id, bucket, currency, payment_method, store_id, customer_id) values ($1, $2, $3, $4, $5, $6)`, [...key, cell.customer]);
    }
    expect(await diff(1, 3)).toEqual({ cells: 0, merchants: 0, listed: [] });
  });

  // PostgreSQL lets an implicit non-default collation win over the default one, so no COLLATE is needed in the join.
  it('compares with a version whose text columns have the default collation (installed before they were "C")', async () => {
    await pool.query(`create schema diff_legacy`);
    try {
      await pool.query(
        `create table diff_legacy.metrics_15m as
         select merchant_id collate "default" as merchant_id, bucket, currency collate "default" as currency,
                payment_method collate "default" as payment_method, store_id collate "default" as store_id,
                completed_count, gross_amount, refund_count, refund_amount, failed_count
         from ${schemas[1]}.metrics_15m`,
      );
      await pool.query(
        `create table diff_legacy.customers_15m as
         select merchant_id collate "default" as merchant_id, bucket, currency collate "default" as currency,
                payment_method collate "default" as payment_method, store_id collate "default" as store_id,
                customer_id collate "default" as customer_id
         from ${schemas[1]}.customers_15m`,
      );
      const { rows } = await pool.query(
        `select count(*)::int as n from pg_attribute a join pg_collation c on c.oid = a.attcollation
         where a.attrelid = 'diff_legacy.metrics_15m'::regclass and c.collname = 'default'`,
      );
      expect(rows).toEqual([{ n: 4 }]);
      expect(await diffVersions(pool, 'diff_legacy', schemas[2]!, ALL)).toEqual({ cells: HAND_WRITTEN.length, merchants: 3, listed: HAND_WRITTEN });
    } finally {
      await pool.query(`drop schema diff_legacy cascade`);
    }
  });

  it('two builds of the same logic: no difference', async () => {
    expect(await diff(1, 3)).toEqual({ cells: 0, merchants: 0, listed: [] });
    expect(await diff(2, 4)).toEqual({ cells: 0, merchants: 0, listed: [] });
    expect(await diff(3, 1, { merchantId: 'dv-a', from: at('2026-10-01T00:00:00Z'), to: at('2026-10-04T00:00:00Z') }))
      .toEqual({ cells: 0, merchants: 0, listed: [] });
  });

  it.each<[string, DiffFilter]>([
    ['one merchant', { merchantId: 'dv-b' }],
    ['a merchant whose refunds all stay', { merchantId: 'dv-c' }],
    ['a merchant with no events', { merchantId: 'dv-nobody' }],
    ['a time range: from included, to excluded (bucket starts)', { from: at('2026-10-01T08:15:00Z'), to: at('2026-10-02T12:00:00Z') }],
    ['only from', { from: at('2026-10-10T00:00:00Z') }],
    ['only to', { to: at('2026-10-01T08:15:00Z') }],
    ['a merchant and a range', { merchantId: 'dv-a', from: at('2026-10-01T08:00:00Z'), to: at('2026-10-01T09:00:00Z') }],
    ['a range with no difference', { from: at('2026-10-20T00:00:00Z'), to: at('2026-10-21T00:00:00Z') }],
  ])('filtered to %s', async (_, filter) => {
    const expected = filtered(HAND_WRITTEN, filter);
    expect(await diff(1, 2, filter)).toEqual(expected);
  });

  it('the filters select what the hand-worked cases say', async () => {
    // Spelled out, so that a mistake shared by `filtered` and diffVersions still shows.
    const counts = async (filter: DiffFilter) => { const r = await diff(1, 2, filter); return [r.cells, r.merchants, r.listed.length]; };
    expect(await counts({ merchantId: 'dv-b' })).toEqual([4, 1, 4]);
    expect(await counts({ merchantId: 'dv-c' })).toEqual([0, 0, 0]);
    expect(await counts({ from: at('2026-10-01T08:15:00Z'), to: at('2026-10-02T12:00:00Z') })).toEqual([5, 2, 5]);
    expect(await counts({ from: at('2026-10-10T00:00:00Z') })).toEqual([MANY, 1, MANY]);
    expect(await counts({ to: at('2026-10-01T08:15:00Z') })).toEqual([2, 1, 2]);
    expect(await counts({ merchantId: 'dv-a', from: at('2026-10-01T08:00:00Z'), to: at('2026-10-01T09:00:00Z') })).toEqual([3, 1, 3]);
  });

  it('lists at most `limit` cells (50 by default), in order, and still counts them all', async () => {
    expect(await diff(1, 2)).toEqual({ cells: 69, merchants: 3, listed: HAND_WRITTEN.slice(0, 50) });
    expect(await diff(1, 2, { limit: 3 })).toEqual({ cells: 69, merchants: 3, listed: HAND_WRITTEN.slice(0, 3) });
    expect(await diff(1, 2, { limit: 0 })).toEqual({ cells: 69, merchants: 3, listed: [] });
    expect(await diff(1, 2, { merchantId: 'dv-m', limit: 5 })).toEqual({ cells: 2 * MANY, merchants: 1, listed: HAND_WRITTEN.slice(9, 14) });
    expect(await diff(1, 2, { merchantId: 'dv-a', limit: 50 })).toEqual({ cells: 5, merchants: 1, listed: HAND_WRITTEN.slice(0, 5) });
  });
});
