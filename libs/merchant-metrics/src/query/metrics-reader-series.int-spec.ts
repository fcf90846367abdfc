import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { testDatabase, type TestDatabase } from '@app/testing';
import { createReadModelTables } from '../schema/read-model-tables.js';
import type { SqlClient } from '@app/projections';
import { QueryRejectedError, type MetricsQuery } from './metrics-query.js';
import { readMetrics } from './metrics-reader.js';
import { insertCells, mv, shape } from './testing/metrics-fixtures.js';

// Series, dimensions, currencies, zero-fill and comparisons; every expected value is worked out by hand.
const SCHEMA = 'rm_reader_series_test';
const NY = 'America/New_York';
const d = (iso: string) => new Date(iso);

describe('readMetrics: series, comparisons and rejections', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  const ask = (q: Partial<MetricsQuery> & Pick<MetricsQuery, 'merchantId' | 'from' | 'to'>) =>
    readMetrics(pool, SCHEMA, { granularity: 'DAY', timeZone: 'UTC', groupBy: [], ...q });

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
    await createReadModelTables(pool, SCHEMA, 'postgres');
    await insertCells(pool, SCHEMA, [
      { merchant: 'm-multi', bucket: '2026-04-01T00:00Z', store: 's-1', completed: 2, gross: 300, customers: ['c1', 'c2'] },
      { merchant: 'm-multi', bucket: '2026-04-01T10:00Z', method: 'WALLET', store: 's-1', completed: 1, gross: 50, customers: ['c1'] },
      { merchant: 'm-multi', bucket: '2026-04-01T12:00Z', store: 's-2', completed: 1, gross: 70, refunds: 1, refunded: 70, customers: ['c3'] },
      { merchant: 'm-multi', bucket: '2026-04-02T09:00Z', currency: 'EUR', completed: 1, gross: 999, customers: ['c1'] },
      { merchant: 'm-multi', bucket: '2026-04-02T09:15Z', store: 's-1', failed: 1 },

      { merchant: 'm-spring', bucket: '2026-03-08T04:45Z', completed: 1, gross: 100, customers: ['c1'] }, // Mar 7 23:45 EST
      { merchant: 'm-spring', bucket: '2026-03-08T05:00Z', completed: 1, gross: 200, customers: ['c2'] }, // Mar 8 00:00 EST
      { merchant: 'm-spring', bucket: '2026-03-09T03:45Z', completed: 2, gross: 300, customers: ['c1', 'c3'] }, // Mar 8 23:45 EDT
      { merchant: 'm-spring', bucket: '2026-03-09T04:00Z', completed: 1, gross: 400, refunds: 1, refunded: 50, customers: ['c1'] }, // Mar 9 EDT
      { merchant: 'm-spring', bucket: '2026-03-09T05:00Z', failed: 3 },

      { merchant: 'm-yoy', bucket: '2025-03-08T05:00Z', completed: 1, gross: 11, customers: ['y1'] }, // 2025-03-08 00:00 EST
      { merchant: 'm-yoy', bucket: '2026-03-08T05:00Z', completed: 1, gross: 22, customers: ['y1'] }, // 2026-03-08 00:00 EST
      { merchant: 'm-yoy', bucket: '2025-03-09T05:00Z', currency: 'EUR', completed: 1, gross: 5, customers: ['y2'] }, // 2025-03-09 00:00 EST

      { merchant: 'm-overlap', bucket: '2025-04-01T00:00Z', completed: 1, gross: 7, customers: ['o1'] },
      { merchant: 'm-overlap', bucket: '2026-04-01T00:00Z', completed: 1, gross: 9, customers: ['o1'] },
    ]);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  const multi = { merchantId: 'm-multi', from: d('2026-04-01T00:00Z'), to: d('2026-04-03T00:00Z') };
  const eurSeries = [['2026-04-01T00:00Z', mv('EUR'), null], ['2026-04-02T00:00Z', mv('EUR', { n: 1, gross: 999, avg: 999, uc: 1 }), null]];
  const totals = [
    mv('EUR', { n: 1, gross: 999, avg: 999, uc: 1 }),
    mv('USD', { n: 4, gross: 420, rc: 1, ra: 70, net: 350, failed: 1, avg: 105, uc: 3 }),
  ];
  const at = (points: unknown[][]) => points.map(([start, ...rest]) => [(start as string).replace('Z', ':00Z'), ...rest]);

  it('one series per currency, in currency order, with totals per currency', async () => {
    const answer = await ask(multi);
    expect(shape(answer)).toEqual([
      { key: ['EUR', null, null], points: at(eurSeries) },
      { key: ['USD', null, null], points: at([
        ['2026-04-01T00:00Z', mv('USD', { n: 4, gross: 420, rc: 1, ra: 70, net: 350, avg: 105, uc: 3 }), null],
        ['2026-04-02T00:00Z', mv('USD', { failed: 1 }), null],
      ]) },
    ]);
    expect(answer.totals).toEqual(totals);
  });

  it('groupBy PAYMENT_METHOD', async () => {
    const answer = await ask({ ...multi, groupBy: ['PAYMENT_METHOD'] });
    expect(shape(answer)).toEqual([
      { key: ['EUR', 'CARD', null], points: at(eurSeries) },
      { key: ['USD', 'CARD', null], points: at([
        ['2026-04-01T00:00Z', mv('USD', { n: 3, gross: 370, rc: 1, ra: 70, net: 300, avg: 123, uc: 3 }), null],
        ['2026-04-02T00:00Z', mv('USD', { failed: 1 }), null],
      ]) },
      { key: ['USD', 'WALLET', null], points: at([
        ['2026-04-01T00:00Z', mv('USD', { n: 1, gross: 50, avg: 50, uc: 1 }), null],
        ['2026-04-02T00:00Z', mv('USD'), null],
      ]) },
    ]);
    expect(answer.totals).toEqual(totals);
  });

  it('groupBy STORE, and STORE with PAYMENT_METHOD (ordered by currency, method, store; no store is "")', async () => {
    const byStore = await ask({ ...multi, groupBy: ['STORE'] });
    expect(shape(byStore).map((s) => [s.key, s.points[0][1]])).toEqual([
      [['EUR', null, ''], mv('EUR')],
      [['USD', null, 's-1'], mv('USD', { n: 3, gross: 350, avg: 117, uc: 2 })],
      [['USD', null, 's-2'], mv('USD', { n: 1, gross: 70, rc: 1, ra: 70, net: 0, avg: 70, uc: 1 })],
    ]);
    const both = await ask({ ...multi, groupBy: ['STORE', 'PAYMENT_METHOD'] });
    expect(shape(both).map((s) => [s.key, s.points[0][1], s.points[1][1]])).toEqual([
      [['EUR', 'CARD', ''], mv('EUR'), mv('EUR', { n: 1, gross: 999, avg: 999, uc: 1 })],
      [['USD', 'CARD', 's-1'], mv('USD', { n: 2, gross: 300, avg: 150, uc: 2 }), mv('USD', { failed: 1 })],
      [['USD', 'CARD', 's-2'], mv('USD', { n: 1, gross: 70, rc: 1, ra: 70, net: 0, avg: 70, uc: 1 }), mv('USD')],
      [['USD', 'WALLET', 's-1'], mv('USD', { n: 1, gross: 50, avg: 50, uc: 1 }), mv('USD')],
    ]);
    expect(both.totals).toEqual(totals);
  });

  it('zero-fills every bucket; a merchant without rows gets no series and no totals', async () => {
    const answer = await ask({ ...multi, to: d('2026-04-05T00:00Z') });
    expect(shape(answer)[1].points.slice(2)).toEqual([['2026-04-03T00:00:00Z', mv('USD'), null], ['2026-04-04T00:00:00Z', mv('USD'), null]]);
    expect(await ask({ ...multi, merchantId: 'm-nobody' })).toEqual({ totals: [], series: [] });
  });

  it('compareTo PREVIOUS_PERIOD: the two New York days before 9 March (one of them 23 hours long)', async () => {
    const answer = await ask({ merchantId: 'm-spring', from: d('2026-03-09T12:00Z'), to: d('2026-03-10T12:00Z'), timeZone: NY, compareTo: 'PREVIOUS_PERIOD' });
    expect(shape(answer)).toEqual([{ key: ['USD', null, null], points: [
      ['2026-03-09T04:00:00Z', mv('USD', { n: 1, gross: 400, rc: 1, ra: 50, net: 350, failed: 3, avg: 400, uc: 1 }), mv('USD', { n: 1, gross: 100, avg: 100, uc: 1 })],
      ['2026-03-10T04:00:00Z', mv('USD'), mv('USD', { n: 3, gross: 500, avg: 167, uc: 3 })],
    ] }]);
    expect(answer.totals).toEqual([mv('USD', { n: 1, gross: 400, rc: 1, ra: 50, net: 350, failed: 3, avg: 400, uc: 1 })]);
  });

  it('compareTo PREVIOUS_YEAR: a currency seen only a year earlier gets a series but no total', async () => {
    const answer = await ask({ merchantId: 'm-yoy', from: d('2026-03-08T12:00Z'), to: d('2026-03-09T12:00Z'), timeZone: NY, compareTo: 'PREVIOUS_YEAR' });
    expect(shape(answer)).toEqual([
      { key: ['EUR', null, null], points: [
        ['2026-03-08T05:00:00Z', mv('EUR'), mv('EUR')],
        ['2026-03-09T04:00:00Z', mv('EUR'), mv('EUR', { n: 1, gross: 5, avg: 5, uc: 1 })],
      ] },
      { key: ['USD', null, null], points: [
        ['2026-03-08T05:00:00Z', mv('USD', { n: 1, gross: 22, avg: 22, uc: 1 }), mv('USD', { n: 1, gross: 11, avg: 11, uc: 1 })],
        ['2026-03-09T04:00:00Z', mv('USD'), mv('USD')],
      ] },
    ]);
    expect(answer.totals).toEqual([mv('USD', { n: 1, gross: 22, avg: 22, uc: 1 })]);
  });

  it('compareTo PREVIOUS_YEAR over a range longer than a year (the two ranges overlap)', async () => {
    const answer = await ask({ merchantId: 'm-overlap', from: d('2025-03-30T00:00Z'), to: d('2026-04-03T00:00Z'), compareTo: 'PREVIOUS_YEAR' });
    const points = answer.series[0].points;
    expect(points).toHaveLength(369);
    const find = (iso: string) => points.find((p) => p.start.toISOString() === iso)!;
    expect([find('2025-04-01T00:00:00.000Z').values, find('2025-04-01T00:00:00.000Z').previous]).toEqual([mv('USD', { n: 1, gross: 7, avg: 7, uc: 1 }), mv('USD')]);
    expect([find('2026-04-01T00:00:00.000Z').values, find('2026-04-01T00:00:00.000Z').previous]).toEqual([
      mv('USD', { n: 1, gross: 9, avg: 9, uc: 1 }), mv('USD', { n: 1, gross: 7, avg: 7, uc: 1 }),
    ]);
    expect(answer.totals).toEqual([mv('USD', { n: 2, gross: 16, avg: 8, uc: 1 })]);
  });

  it('as named prepared statements with generic plans, and without unique customers (counted as 0)', async () => {
    const generic = createPool({ connectionString: database.url, max: 1 });
    generic.on('connect', (client) => void client.query('set plan_cache_mode = force_generic_plan'));
    let names = 0;
    const named = new Map<string, string>();
    const prepared: SqlClient = {
      query: async <R,>(text: string, values?: unknown[]) => {
        if (!named.has(text)) named.set(text, `spec_${names++}`);
        return { rows: (await generic.query({ name: named.get(text), text, values })).rows as R[] };
      },
    };
    const withoutCustomers = (answer: Awaited<ReturnType<typeof ask>>) => ({
      totals: answer.totals.map((v) => ({ ...v, uniqueCustomers: 0 })),
      series: answer.series.map((s) => ({
        ...s,
        points: s.points.map((p) => ({ ...p, values: { ...p.values, uniqueCustomers: 0 }, previous: p.previous && { ...p.previous, uniqueCustomers: 0 } })),
      })),
    });
    try {
      const questions: MetricsQuery[] = [
        { ...multi, granularity: 'DAY', timeZone: 'UTC', groupBy: [] },
        { ...multi, granularity: 'HOUR', timeZone: NY, groupBy: ['STORE', 'PAYMENT_METHOD'] },
        { merchantId: 'm-spring', from: d('2026-03-09T12:00Z'), to: d('2026-03-10T12:00Z'), granularity: 'DAY', timeZone: NY, groupBy: [], compareTo: 'PREVIOUS_PERIOD' },
        { merchantId: 'm-yoy', from: d('2026-03-08T12:00Z'), to: d('2026-03-09T12:00Z'), granularity: 'DAY', timeZone: NY, groupBy: [], compareTo: 'PREVIOUS_YEAR' },
        { merchantId: 'm-overlap', from: d('2025-03-30T00:00Z'), to: d('2026-04-03T00:00Z'), granularity: 'MONTH', timeZone: 'Asia/Kolkata', groupBy: [], compareTo: 'PREVIOUS_YEAR' },
      ];
      for (const question of questions) {
        const expected = await readMetrics(pool, SCHEMA, question);
        expect(expected.series.length).toBeGreaterThan(0);
        // Twice each: the second execution runs the statement prepared on the first.
        for (let round = 0; round < 2; round++) {
          expect(await readMetrics(prepared, SCHEMA, question)).toEqual(expected);
          expect(await readMetrics(prepared, SCHEMA, question, {}, { uniqueCustomers: false })).toEqual(withoutCustomers(expected));
        }
      }
    } finally {
      await generic.end();
    }
  });

  it.each<[string, Partial<MetricsQuery>]>([
    ['an unknown zone', { timeZone: 'Europe/Atlantis' }],
    ['to equal to from', { to: multi.from }],
    ['too many buckets', { granularity: 'HOUR', to: d('2026-05-01T00:00Z') }],
    ['a range over 400 days', { from: d('2025-01-01T00:00Z'), to: d('2026-02-05T00:15Z') }],
    ['three dimensions', { groupBy: ['STORE', 'PAYMENT_METHOD', 'STORE'] }],
    ['a duplicated dimension', { groupBy: ['PAYMENT_METHOD', 'PAYMENT_METHOD'] }],
  ])('rejects %s without a query to the database', async (_, change) => {
    let calls = 0;
    const counting: SqlClient = {
      query: async <R,>(text: string, values?: unknown[]) => {
        calls++;
        return { rows: (await pool.query(text, values)).rows as R[] };
      },
    };
    const limits = { maxBuckets: 500, maxRangeDays: { HOUR: 60 } };
    await expect(readMetrics(counting, SCHEMA, { ...multi, granularity: 'DAY', timeZone: 'UTC', groupBy: [], ...change }, limits)).rejects.toBeInstanceOf(QueryRejectedError);
    expect(calls).toBe(0);
  });
});
