import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { eventually } from '@app/testing';
import { startCommandApiHarness, type CommandApiHarness } from '../apps/command-api/src/testing/command-api-harness.js';
import { sendEvents } from '../apps/projector/src/testing/send-events.js';
import { asStoredTotals, expectedTotals, generateEvents, readModelTotals } from '../libs/merchant-metrics/src/testing/index.js';
import { AppProcess, PROJECTOR } from './support/app-process.js';

const schema = 'rm_merchant_metrics_v1';
const window = { from: new Date('2026-09-01T00:00:00Z'), to: new Date('2026-11-20T00:00:00Z') };

describe('projector processes killed with SIGKILL', () => {
  let h: CommandApiHarness;
  let pool: pg.Pool;
  const processes: AppProcess[] = [];

  beforeAll(async () => {
    h = await startCommandApiHarness();
    pool = createPool({ connectionString: h.database.url, max: 4 });
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await pool?.end();
    await h?.close();
  });

  const startProjector = async (options: { waitReady?: boolean } = {}) => {
    const p = await AppProcess.start(PROJECTOR, {
      DATABASE_URL: h.database.url, NATS_URL: h.nats.url, PROJECTOR_LEASE_SECONDS: '3', PROJECTOR_BATCH_EVENTS: '500',
    }, options);
    processes.push(p);
    return p;
  };
  const projectedEvents = async () =>
    Number((await pool.query(`select coalesce(sum(events), 0) as n from projections.checkpoints where version = 1`)).rows[0].n);
  const owners = async () =>
    (await pool.query(`select owner, count(*)::int as n from projections.leases where expires_at > now() group by owner order by owner`)).rows;

  it('resumes a catch-up killed mid-batch and ends with exact totals', async () => {
    const events = generateEvents({ seed: 11, count: 30_000, merchants: 200, merchantPrefix: 'k1-', ...window });
    expect(await sendEvents(h.url, h.key, events, 1000)).toBe(30_000);

    // Killed as soon as its first batches are in, while most of the catch-up is still ahead.
    const first = await startProjector({ waitReady: false });
    await eventually(async () => expect(await projectedEvents()).toBeGreaterThan(0), 30_000, 5);
    await first.kill();
    const atKill = await projectedEvents();
    expect(atKill).toBeLessThan(30_000);

    const second = await startProjector();
    const expected = asStoredTotals(expectedTotals(events));
    await eventually(async () => expect(await readModelTotals(pool, schema, 'k1-')).toEqual(expected), 60_000);
    expect(await projectedEvents()).toBe(30_000);
    await second.stop();
  });

  it('shares partitions between two processes, and one takes over when the other is killed during live ingest', async () => {
    const before = await projectedEvents();
    const a = await startProjector();
    await startProjector();
    await eventually(async () => expect((await owners()).map((o) => o.n)).toEqual([8, 8]), 30_000);

    const events = generateEvents({ seed: 12, count: 12_000, merchants: 300, merchantPrefix: 'k2-', ...window });
    const sending = sendEvents(h.url, h.key, events, 250);
    await eventually(async () => expect(await readModelTotals(pool, schema, 'k2-')).not.toEqual(new Map()), 30_000, 5);
    await a.kill();
    expect(await sending).toBe(12_000);

    const expected = asStoredTotals(expectedTotals(events));
    await eventually(async () => expect(await readModelTotals(pool, schema, 'k2-')).toEqual(expected), 60_000);
    await eventually(async () => expect((await owners()).map((o) => o.n)).toEqual([16]), 30_000);

    // Restarted, it gets its share back; NATS redelivers what the dead process had not acked, and nothing changes.
    await a.start();
    await eventually(async () => expect((await owners()).map((o) => o.n)).toEqual([8, 8]), 30_000);
    expect(await readModelTotals(pool, schema, 'k2-')).toEqual(expected);
    expect(await projectedEvents()).toBe(before + 12_000);
  });
});
