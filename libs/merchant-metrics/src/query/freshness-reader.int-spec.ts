import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { partitionOf, partitionTable, readPartitionCount } from '@app/event-store';
import { testDatabase, type TestDatabase } from '@app/testing';
import { merchantMetricsProjection } from '../projection/merchant-metrics.definition.js';
import { PROJECTION_NAME } from '../projection/merchant-metrics.projection.js';
import { goLiveIfFirst, installVersion, LiveVersionCache, NoLiveVersionError } from '@app/projections';
import { readFreshness } from './freshness-reader.js';
import { readMetricsWithFreshness } from './metrics-reader.js';

const MERCHANT = 'm-fresh';
const RECORDED = ['2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:03.000Z'];

describe('freshness and the live version', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let partitions: number;
  let partition: number;

  const setCheckpoint = (version: number, position: number) =>
    pool.query(
      `update projections.checkpoints set position = $3, recorded_at = $4 where projection = $1 and version = $2 and partition = $5`,
      [PROJECTION_NAME, version, position, position === 0 ? null : RECORDED[position - 1], partition],
    );

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
    partitions = await readPartitionCount(pool);
    partition = partitionOf(MERCHANT, partitions);
    const client = await pool.connect();
    try {
      for (const version of [1, 2]) {
        await installVersion(client, merchantMetricsProjection, { version, partitions, codeRevision: 'test', engine: 'postgres' });
      }
    } finally {
      client.release();
    }
    // Three events of this partition, recorded a second apart (written directly: only positions and times matter here).
    for (const [i, recordedAt] of RECORDED.entries()) {
      await pool.query(
        `insert into ${partitionTable(partition)} (partition, position, event_id, merchant_id, event_type, occurred_at, recorded_at, payload)
         values ($1, $2, $3, $4, 'payment_failed', $5, $5, '{}')`,
        [partition, i + 1, randomUUID(), MERCHANT, recordedAt],
      );
    }
    await pool.query(`update event_store.partition_heads set head = 3 where partition = $1`, [partition]);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('refuses to answer before any version is live', async () => {
    await expect(readFreshness(pool, MERCHANT, partitions)).rejects.toBeInstanceOf(NoLiveVersionError);
    await expect(new LiveVersionCache(pool, PROJECTION_NAME).get()).rejects.toBeInstanceOf(NoLiveVersionError);
  });

  it('behind the head: asOf is when the first event not yet projected was recorded', async () => {
    expect(await goLiveIfFirst(pool, PROJECTION_NAME, 1)).toBe(true);
    const before = Date.now();
    const fresh = await readFreshness(pool, MERCHANT, partitions);
    expect(fresh.version).toBe(1);
    expect(fresh.asOf.toISOString()).toBe(RECORDED[0]);
    const expectedLag = (before - Date.parse(RECORDED[0])) / 1000;
    expect(fresh.lagSeconds).toBeGreaterThan(expectedLag - 60);
    expect(fresh.lagSeconds).toBeLessThan(expectedLag + 60);

    await setCheckpoint(1, 2);
    expect((await readFreshness(pool, MERCHANT, partitions)).asOf.toISOString()).toBe(RECORDED[2]);
  });

  it('at the head: asOf is now and the lag is zero', async () => {
    await setCheckpoint(1, 3);
    const before = Date.now();
    const fresh = await readFreshness(pool, MERCHANT, partitions);
    expect(fresh).toMatchObject({ version: 1, lagSeconds: 0 });
    expect(Math.abs(fresh.asOf.getTime() - before)).toBeLessThan(60_000);
    // A merchant of another, empty partition is caught up too.
    let other = 'm-other';
    for (let i = 0; partitionOf(other, partitions) === partition; i++) other = `m-other-${i}`;
    expect((await readFreshness(pool, other, partitions)).lagSeconds).toBe(0);
  });

  it('reads a given version instead of the live one', async () => {
    await setCheckpoint(1, 2);
    await setCheckpoint(2, 1);
    expect((await readFreshness(pool, MERCHANT, partitions, 2)).asOf.toISOString()).toBe(RECORDED[1]);
    expect((await readFreshness(pool, MERCHANT, partitions)).asOf.toISOString()).toBe(RECORDED[2]);
  });

  it('in the metrics statement itself: the same freshness as readFreshness, behind and at the head', async () => {
    const question = { merchantId: MERCHANT, from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-02T00:00:00Z'), granularity: 'DAY' as const, timeZone: 'UTC', groupBy: [] };
    const live = (version: number) => ({ schemaName: `rm_merchant_metrics_v${version}`, version });
    for (const [version, position] of [[1, 0], [1, 1], [1, 2], [2, 1]] as const) {
      await setCheckpoint(version, position);
      const answer = await readMetricsWithFreshness(pool, live(version), partitions, question);
      expect(answer.freshness.version).toBe(version);
      expect(answer.freshness.asOf.toISOString()).toBe(RECORDED[position]);
      expect(answer.freshness.asOf).toEqual((await readFreshness(pool, MERCHANT, partitions, version)).asOf);
      expect(answer.freshness.lagSeconds).toBeGreaterThan(0);
      expect(answer).toMatchObject({ totals: [], series: [] });
    }
    await setCheckpoint(1, 3);
    const before = Date.now();
    const caughtUp = await readMetricsWithFreshness(pool, live(1), partitions, question);
    expect(caughtUp.freshness).toMatchObject({ version: 1, lagSeconds: 0 });
    expect(Math.abs(caughtUp.freshness.asOf.getTime() - before)).toBeLessThan(60_000);
  });

  it('caches the live version for its TTL', async () => {
    let clock = 0;
    const cache = new LiveVersionCache(pool, PROJECTION_NAME, 500, () => clock);
    expect(await cache.get()).toMatchObject({ version: 1, schemaName: 'rm_merchant_metrics_v1' });
    await pool.query(`update projections.live set version = 2, previous_version = 1 where projection = $1`, [PROJECTION_NAME]);
    clock = 499;
    expect((await cache.get()).version).toBe(1);
    clock = 500;
    expect(await cache.get()).toMatchObject({ version: 2, schemaName: 'rm_merchant_metrics_v2' });
  });
});
