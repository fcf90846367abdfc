import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProjectorConfig } from '@app/config';
import { createPool } from '@app/database';
import { PROJECTION_NAME } from '@app/merchant-metrics';
import { eventually } from '@app/testing';
import { startCommandApiHarness, type CommandApiHarness } from '../../../command-api/src/testing/command-api-harness.js';
import { asStoredTotals, expectedTotals, generateEvents, readModelTotals } from '../../../../libs/merchant-metrics/src/testing/index.js';
import { startProjector } from '../bootstrap.js';
import { AdminListener } from './admin-listener.js';
import { CONTROL_POOL } from './projector-http.module.js';
import { sendEvents } from '../testing/send-events.js';

/** A Prometheus text exposition as `name{label="…",…}` → value, labels sorted by name. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = (match[2] ?? '').split(',').filter(Boolean).sort().join(',');
    out.set(labels ? `${match[1]}{${labels}}` : match[1]!, Number(match[3]));
  }
  return out;
}

describe('projector over HTTP: /health/live and /health/ready on its port, /metrics and /health/details on the admin port', () => {
  let h: CommandApiHarness;
  let app: NestFastifyApplication;
  let pool: pg.Pool;
  let url: string;
  let adminUrl: string;
  let partitions: number;
  const window = { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-10-02T00:00:00Z') };
  // One merchant, so every event lands in one partition: 1 projected, then 3 + 4 held back.
  const events = generateEvents({ seed: 31, count: 8, merchants: 1, merchantPrefix: 'http-', ...window });

  beforeAll(async () => {
    h = await startCommandApiHarness();
    pool = createPool({ connectionString: h.database.url, max: 4 });
    partitions = Number((await pool.query(`select count(*) as n from event_store.partition_heads`)).rows[0].n);
    app = await startProjector(loadProjectorConfig({
      DATABASE_URL: h.database.url, NATS_URL: h.nats.url, PROJECTOR_PORT: '0', PROJECTOR_ADMIN_PORT: '0', PROJECTOR_LEASE_SECONDS: '2', PROJECTOR_STALL_SECONDS: '1',
      // The version this spec names (its schema and metric labels); new installations default to v3.
      PROJECTOR_VERSIONS: 'merchant-metrics=1',
    }), { logger: false });
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    adminUrl = app.get(AdminListener).server!.url;
  });
  afterAll(async () => {
    await app?.close();
    await pool?.end();
    await h?.close();
  });

  const scrape = async () => {
    const res = await fetch(`${adminUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parseMetrics(await res.text());
  };
  /** The admin port's readiness with its details (the API port's says only its status). */
  const details = async () => {
    const res = await fetch(`${adminUrl}/health/details`);
    return { status: res.status, body: await res.json() };
  };
  const readyText = async (signal?: AbortSignal) => {
    const res = await fetch(`${url}/health/ready`, { signal });
    return [res.status, await res.text()];
  };
  /** Every per-partition gauge of version 1, as `expected(partition)` says it must be. */
  const expectPartitions = (metrics: Map<string, number>, expected: (partition: number) => Record<string, number>) => {
    for (let p = 0; p < partitions; p++) {
      for (const [name, value] of Object.entries(expected(p))) {
        expect(metrics.get(`${name}{partition="${p}",projection="merchant-metrics",version="1"}`), `${name} of partition ${p}`).toBe(value);
      }
    }
  };
  const idle = (position: (p: number) => number) => (p: number) => ({
    projector_partition_store_position: position(p),
    projector_partition_checkpoint_position: position(p),
    projector_partition_lag_events: 0,
    projector_partition_lag_seconds: 0,
    projector_partition_stalled: 0,
  });

  it('is live, ready, owns every partition and reports no lag on an empty store', async () => {
    const live = await fetch(`${url}/health/live`);
    expect([live.status, await live.text()]).toEqual([200, '{"status":"ok"}']);
    expect(await readyText()).toEqual([200, '{"status":"ok"}']);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    expect(app.get(AdminListener).server!.address.address).toBe('127.0.0.1');
    await eventually(async () => {
      expect(await details()).toEqual({ status: 200, body: { status: 'ok', database: true, nats: true, lagEvents: 0, stalledPartitions: [] } });
      const metrics = await scrape();
      expect(metrics.get('projector_owned_partitions{projection="merchant-metrics",version="1"}')).toBe(partitions);
      expectPartitions(metrics, idle(() => 0));
    });
  });

  it('reports N waiting events of a blocked partition, the age of the oldest, and the stall; all back to 0 once it moves', async () => {
    expect(await sendEvents(h.url, h.key, events.slice(0, 1))).toBe(1);
    await eventually(async () => expect(await readModelTotals(pool, 'rm_merchant_metrics_v1', 'http-')).toEqual(asStoredTotals(expectedTotals(events.slice(0, 1)))));
    const target = Number((await pool.query(`select partition from event_store.events where merchant_id = 'http-0'`)).rows[0].partition);
    const at = (p: number, value: number) => (p === target ? value : 0);

    // Holding the partition's checkpoint row keeps its next batch from committing.
    const blocker = await pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query(`select 1 from projections.checkpoints where projection = $1 and version = 1 and partition = $2 for update`, [PROJECTION_NAME, target]);
      expect(await sendEvents(h.url, h.key, events.slice(1, 4))).toBe(3);
      // The oldest waiting event must be clearly older than the newest, or its age would not tell them apart.
      await eventually(async () => expect((await scrape()).get(`projector_partition_lag_seconds{partition="${target}",projection="merchant-metrics",version="1"}`)).toBeGreaterThanOrEqual(3), 15_000);
      expect(await sendEvents(h.url, h.key, events.slice(4))).toBe(4);

      const ageOfOldest = async () => Number((await pool.query(
        `select extract(epoch from clock_timestamp() - recorded_at)::float8 as age from event_store.events where partition = $1 and position = 2`, [target],
      )).rows[0].age);
      await eventually(async () => {
        const before = await ageOfOldest();
        const metrics = await scrape();
        const after = await ageOfOldest();
        expectPartitions(metrics, (p) => ({
          projector_partition_store_position: at(p, 8),
          projector_partition_checkpoint_position: at(p, 1),
          projector_partition_lag_events: at(p, 7),
          projector_partition_stalled: at(p, 1),
        }));
        expectPartitions(metrics, (p): Record<string, number> => (p === target ? {} : { projector_partition_lag_seconds: 0 }));
        // Sampled on the projector's last tick (every 667 ms with 2 s leases), so at most a tick and its run time old.
        const lag = metrics.get(`projector_partition_lag_seconds{partition="${target}",projection="merchant-metrics",version="1"}`)!;
        expect(lag).toBeLessThanOrEqual(after);
        expect(lag).toBeGreaterThanOrEqual(before - 1.5);
        expect(metrics.get('projector_events_applied_total{projection="merchant-metrics",version="1"}')).toBe(1);
        expect(await details()).toEqual({ status: 200, body: { status: 'ok', database: true, nats: true, lagEvents: 7, stalledPartitions: [target] } });
      }, 15_000);
    } finally {
      await blocker.query('rollback');
      blocker.release();
    }

    await eventually(async () => {
      const metrics = await scrape();
      expectPartitions(metrics, idle((p) => at(p, 8)));
      expect(metrics.get('projector_events_applied_total{projection="merchant-metrics",version="1"}')).toBe(8);
      expect(await details()).toEqual({ status: 200, body: { status: 'ok', database: true, nats: true, lagEvents: 0, stalledPartitions: [] } });
    }, 15_000);
    expect(await readModelTotals(pool, 'rm_merchant_metrics_v1', 'http-')).toEqual(asStoredTotals(expectedTotals(events)));
  });

  it('answers readiness from its last check while the control pool has no connection free, and turns unready within a few seconds', async () => {
    const control = app.get<symbol, pg.Pool>(CONTROL_POOL);
    // Every connection of the pool readiness is checked on, held: a check on it cannot run.
    const held = await Promise.all(Array.from({ length: 3 }, () => control.connect()));
    const since = Date.now();
    try {
      for (let i = 0; i < 50; i++) {
        // Answered at once, from the last check: a call that queried the database would wait for a connection.
        expect([[200, '{"status":"ok"}'], [503, '{"status":"unavailable"}']]).toContainEqual(await readyText(AbortSignal.timeout(1000)));
      }
      await eventually(async () => expect(await readyText()).toEqual([503, '{"status":"unavailable"}']), 10_000, 50);
      // At most an interval (1 s) and the check's timeout (2 s) after it could no longer run.
      expect(Date.now() - since).toBeLessThan(4500);
      const { status, body } = await details();
      expect(status).toBe(503);
      expect(body).toMatchObject({ status: 'unavailable', database: false, error: 'no answer within 2000 ms' });
    } finally {
      for (const client of held) client.release();
    }
    await eventually(async () => expect(await readyText()).toEqual([200, '{"status":"ok"}']), 10_000, 50);
  });
});
