import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { testDatabase, type TestDatabase } from '@app/testing';
import { createReadModelTables } from '../schema/read-model-tables.js';
import type { MetricsQuery } from './metrics-query.js';
import { readMetrics } from './metrics-reader.js';
import { insertCells, mv, shape } from './testing/metrics-fixtures.js';

// Every expected value below is worked out by hand from the rows inserted here.
// New York: EDT starts 2026-03-08 07:00Z (a 23-hour day), EST returns 2026-11-01 06:00Z (25 hours).
const SCHEMA = 'rm_reader_test';
const NY = 'America/New_York';

describe('readMetrics: zones and granularities', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  const ask = (q: Partial<MetricsQuery> & Pick<MetricsQuery, 'merchantId' | 'from' | 'to' | 'granularity' | 'timeZone'>) =>
    readMetrics(pool, SCHEMA, { groupBy: [], ...q });
  const d = (iso: string) => new Date(iso);

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
    await createReadModelTables(pool, SCHEMA, 'postgres');
    await insertCells(pool, SCHEMA, [
      { merchant: 'm-spring', bucket: '2026-03-08T04:45Z', completed: 1, gross: 100, customers: ['c1'] }, // Mar 7 23:45 EST
      { merchant: 'm-spring', bucket: '2026-03-08T05:00Z', completed: 1, gross: 200, customers: ['c2'] }, // Mar 8 00:00 EST
      { merchant: 'm-spring', bucket: '2026-03-09T03:45Z', completed: 2, gross: 300, customers: ['c1', 'c3'] }, // Mar 8 23:45 EDT
      { merchant: 'm-spring', bucket: '2026-03-09T04:00Z', completed: 1, gross: 400, refunds: 1, refunded: 50, customers: ['c1'] }, // Mar 9 00:00 EDT
      { merchant: 'm-spring', bucket: '2026-03-09T05:00Z', failed: 3 },

      { merchant: 'm-fall', bucket: '2026-11-01T03:45Z', completed: 1, gross: 10, customers: ['c1'] }, // Oct 31 23:45 EDT
      { merchant: 'm-fall', bucket: '2026-11-01T04:00Z', completed: 1, gross: 20, customers: ['c2'] }, // Nov 1 00:00 EDT
      { merchant: 'm-fall', bucket: '2026-11-01T05:15Z', completed: 1, gross: 1, customers: ['c3'] }, // 01:15 EDT
      { merchant: 'm-fall', bucket: '2026-11-01T06:15Z', completed: 1, gross: 2, customers: ['c3'] }, // 01:15 EST
      { merchant: 'm-fall', bucket: '2026-11-01T06:45Z', completed: 1, gross: 4, customers: ['c4'] }, // 01:45 EST
      { merchant: 'm-fall', bucket: '2026-11-01T07:00Z', completed: 1, gross: 8, customers: ['c1'] }, // 02:00 EST
      { merchant: 'm-fall', bucket: '2026-11-02T04:45Z', completed: 1, gross: 40, customers: ['c5'] }, // Nov 1 23:45 EST
      { merchant: 'm-fall', bucket: '2026-11-02T05:00Z', completed: 1, gross: 80, customers: ['c5'] }, // Nov 2 00:00 EST

      { merchant: 'm-tokyo', bucket: '2026-01-31T14:45Z', currency: 'JPY', completed: 1, gross: 1000, customers: ['t1'] }, // Jan 31 23:45 JST
      { merchant: 'm-tokyo', bucket: '2026-01-31T15:00Z', currency: 'JPY', completed: 2, gross: 3000, customers: ['t1', 't2'] }, // Feb 1 00:00
      { merchant: 'm-tokyo', bucket: '2026-02-28T14:45Z', currency: 'JPY', completed: 1, gross: 500, customers: ['t3'] }, // Feb 28 23:45
      { merchant: 'm-tokyo', bucket: '2026-02-28T15:00Z', currency: 'JPY', completed: 1, gross: 700, customers: ['t1'] }, // Mar 1 00:00

      // 23:45 and 00:00 IST: one UTC hour, two local days.
      { merchant: 'm-kolkata', bucket: '2026-05-10T18:15Z', currency: 'INR', method: 'QR', completed: 1, gross: 100, customers: ['k1'] },
      { merchant: 'm-kolkata', bucket: '2026-05-10T18:30Z', currency: 'INR', method: 'QR', completed: 1, gross: 200, customers: ['k1'] },

      { merchant: 'm-week', bucket: '2026-03-01T23:45Z', currency: 'EUR', completed: 1, gross: 10 }, // Sunday (UTC and EST)
      { merchant: 'm-week', bucket: '2026-03-02T00:00Z', currency: 'EUR', completed: 1, gross: 20 }, // Monday UTC, Sunday 19:00 EST
      { merchant: 'm-week', bucket: '2026-03-08T23:45Z', currency: 'EUR', completed: 1, gross: 40 }, // Sunday (UTC and EDT)
      { merchant: 'm-week', bucket: '2026-03-09T00:00Z', currency: 'EUR', completed: 1, gross: 80 }, // Monday UTC, Sunday 20:00 EDT
    ]);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('DAY in New York across the 23-hour 8 March; a customer of three days counts once in the total', async () => {
    const answer = await ask({ merchantId: 'm-spring', from: d('2026-03-07T12:00Z'), to: d('2026-03-09T12:00Z'), granularity: 'DAY', timeZone: NY });
    expect(shape(answer)).toEqual([{
      key: ['USD', null, null],
      points: [
        ['2026-03-07T05:00:00Z', mv('USD', { n: 1, gross: 100, avg: 100, uc: 1 }), null],
        ['2026-03-08T05:00:00Z', mv('USD', { n: 3, gross: 500, avg: 167, uc: 3 }), null],
        ['2026-03-09T04:00:00Z', mv('USD', { n: 1, gross: 400, rc: 1, ra: 50, net: 350, failed: 3, avg: 400, uc: 1 }), null],
      ],
    }]);
    expect(answer.totals).toEqual([mv('USD', { n: 5, gross: 1000, rc: 1, ra: 50, net: 950, failed: 3, avg: 200, uc: 3 })]);
  });

  it('DAY in New York across the 25-hour 1 November', async () => {
    const answer = await ask({ merchantId: 'm-fall', from: d('2026-10-31T12:00Z'), to: d('2026-11-02T12:00Z'), granularity: 'DAY', timeZone: NY });
    expect(shape(answer)[0].points).toEqual([
      ['2026-10-31T04:00:00Z', mv('USD', { n: 1, gross: 10, avg: 10, uc: 1 }), null],
      ['2026-11-01T04:00:00Z', mv('USD', { n: 6, gross: 75, avg: 13, uc: 5 }), null],
      ['2026-11-02T05:00:00Z', mv('USD', { n: 1, gross: 80, avg: 80, uc: 1 }), null],
    ]);
    expect(answer.totals).toEqual([mv('USD', { n: 8, gross: 165, avg: 21, uc: 5 })]);
  });

  it('HOUR through the repeated 01:00 of 1 November, and all 25 hours of that day', async () => {
    const answer = await ask({ merchantId: 'm-fall', from: d('2026-11-01T04:00Z'), to: d('2026-11-01T08:00Z'), granularity: 'HOUR', timeZone: NY });
    expect(shape(answer)[0].points).toEqual([
      ['2026-11-01T04:00:00Z', mv('USD', { n: 1, gross: 20, avg: 20, uc: 1 }), null],
      ['2026-11-01T05:00:00Z', mv('USD', { n: 1, gross: 1, avg: 1, uc: 1 }), null],
      ['2026-11-01T06:00:00Z', mv('USD', { n: 2, gross: 6, avg: 3, uc: 2 }), null],
      ['2026-11-01T07:00:00Z', mv('USD', { n: 1, gross: 8, avg: 8, uc: 1 }), null],
    ]);
    expect(answer.totals).toEqual([mv('USD', { n: 5, gross: 35, avg: 7, uc: 4 })]);

    const day = await ask({ merchantId: 'm-fall', from: d('2026-11-01T04:00Z'), to: d('2026-11-02T05:00Z'), granularity: 'HOUR', timeZone: NY });
    const points = day.series[0].points;
    expect(points).toHaveLength(25);
    expect(points[24].start.toISOString()).toBe('2026-11-02T04:00:00.000Z'); // 23:00 EST
    expect(points[24].values).toEqual(mv('USD', { n: 1, gross: 40, avg: 40, uc: 1 }));
    expect(day.totals).toEqual([mv('USD', { n: 6, gross: 75, avg: 13, uc: 5 })]);
  });

  it('Asia/Tokyo DAY and MONTH', async () => {
    const days = await ask({ merchantId: 'm-tokyo', from: d('2026-01-31T00:00Z'), to: d('2026-02-01T00:00Z'), granularity: 'DAY', timeZone: 'Asia/Tokyo' });
    expect(shape(days)[0].points).toEqual([
      ['2026-01-30T15:00:00Z', mv('JPY', { n: 1, gross: 1000, avg: 1000, uc: 1 }), null],
      ['2026-01-31T15:00:00Z', mv('JPY', { n: 2, gross: 3000, avg: 1500, uc: 2 }), null],
    ]);
    expect(days.totals).toEqual([mv('JPY', { n: 3, gross: 4000, avg: 1333, uc: 2 })]);

    const months = await ask({ merchantId: 'm-tokyo', from: d('2026-01-15T00:00Z'), to: d('2026-03-15T00:00Z'), granularity: 'MONTH', timeZone: 'Asia/Tokyo' });
    expect(shape(months)[0].points).toEqual([
      ['2025-12-31T15:00:00Z', mv('JPY', { n: 1, gross: 1000, avg: 1000, uc: 1 }), null],
      ['2026-01-31T15:00:00Z', mv('JPY', { n: 3, gross: 3500, avg: 1167, uc: 3 }), null],
      ['2026-02-28T15:00:00Z', mv('JPY', { n: 1, gross: 700, avg: 700, uc: 1 }), null],
    ]);
    expect(months.totals).toEqual([mv('JPY', { n: 5, gross: 5200, avg: 1040, uc: 3 })]);
  });

  it('Asia/Kolkata DAY: rows at 18:15Z and 18:30Z land in different local days', async () => {
    const answer = await ask({ merchantId: 'm-kolkata', from: d('2026-05-10T00:00Z'), to: d('2026-05-11T12:00Z'), granularity: 'DAY', timeZone: 'Asia/Kolkata' });
    expect(shape(answer)[0].points).toEqual([
      ['2026-05-09T18:30:00Z', mv('INR', { n: 1, gross: 100, avg: 100, uc: 1 }), null],
      ['2026-05-10T18:30:00Z', mv('INR', { n: 1, gross: 200, avg: 200, uc: 1 }), null],
    ]);
    expect(answer.totals).toEqual([mv('INR', { n: 2, gross: 300, avg: 150, uc: 1 })]);
  });

  it('WEEK starts on Monday, in UTC and in New York', async () => {
    const range = { merchantId: 'm-week', from: d('2026-02-25T00:00Z'), to: d('2026-03-10T00:00Z'), granularity: 'WEEK' as const };
    expect(shape(await ask({ ...range, timeZone: 'UTC' }))[0].points).toEqual([
      ['2026-02-23T00:00:00Z', mv('EUR', { n: 1, gross: 10, avg: 10 }), null],
      ['2026-03-02T00:00:00Z', mv('EUR', { n: 2, gross: 60, avg: 30 }), null],
      ['2026-03-09T00:00:00Z', mv('EUR', { n: 1, gross: 80, avg: 80 }), null],
    ]);
    expect(shape(await ask({ ...range, timeZone: NY }))[0].points).toEqual([
      ['2026-02-23T05:00:00Z', mv('EUR', { n: 2, gross: 30, avg: 15 }), null],
      ['2026-03-02T05:00:00Z', mv('EUR', { n: 2, gross: 120, avg: 60 }), null],
      ['2026-03-09T04:00:00Z', mv('EUR'), null],
    ]);
  });
});
