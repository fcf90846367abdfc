import { headers as natsHeaders } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProjectorConfig } from '@app/config';
import { createPool } from '@app/database';
import { readPartition } from '@app/event-store';
import { encodeEventBatch } from '@app/messaging';
import { PROJECTION_NAME } from '@app/merchant-metrics';
import { projectionCatalog } from '@app/projection-catalog';
import { readCheckpoints, readLive } from '@app/projections';
import { eventually } from '@app/testing';
import { startCommandApiHarness, type CommandApiHarness } from '../../command-api/src/testing/command-api-harness.js';
import { asStoredTotals, expectedTotals, generateEvents, readModelTotals } from '../../../libs/merchant-metrics/src/testing/index.js';
import { ProjectorSet } from './projector-set.js';
import { sendEvents } from './testing/send-events.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

describe('projector', () => {
  let h: CommandApiHarness;
  let pool: pg.Pool;
  let projector: ProjectorSet;
  const warnings: string[] = [];
  const schema = 'rm_merchant_metrics_v1';
  const window = { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-11-20T00:00:00Z') };

  beforeAll(async () => {
    h = await startCommandApiHarness();
    pool = createPool({ connectionString: h.database.url, max: 10 });
    const config = loadProjectorConfig({
      DATABASE_URL: h.database.url, NATS_URL: h.nats.url, PROJECTOR_LEASE_SECONDS: '2', PROJECTOR_STALL_SECONDS: '1',
      PROJECTOR_ROLLUP_CHECK_SECONDS: '1',
      // v1: this spec covers the native rollup watermark, which v3's complete rollups do without.
      PROJECTOR_VERSIONS: 'merchant-metrics=1',
    });
    projector = new ProjectorSet(pool, config, projectionCatalog, { ...quiet, warn: (m: string) => warnings.push(m) });
    await projector.start();
  });
  afterAll(async () => {
    await projector?.stop();
    await pool?.end();
    await h?.close();
  });

  const projected = (prefix: string) => readModelTotals(pool, schema, prefix);

  it('projects what the command API stored, exactly, and the first version goes live', async () => {
    const events = generateEvents({ seed: 1, count: 1500, merchants: 30, merchantPrefix: 'live-', ...window });
    expect(await sendEvents(h.url, h.key, events)).toBe(1500);
    const expected = asStoredTotals(expectedTotals(events));
    await eventually(async () => expect(await projected('live-')).toEqual(expected), 20_000);
    await eventually(async () => expect(await readLive(pool, PROJECTION_NAME)).toMatchObject({ version: 1, schemaName: schema }));
    // Resending the same events stores nothing new and changes nothing.
    expect(await sendEvents(h.url, h.key, events)).toBe(0);
    expect(await projected('live-')).toEqual(expected);
  });

  it('materializes finished UTC days into the rollups and moves the watermark to yesterday', async () => {
    const rollups = (table: string) => pool.query<{ row: string }>(
      `select concat_ws('|', to_char(bucket at time zone 'UTC', 'YYYY-MM-DD HH24'), sum(completed_count), sum(gross_amount)) as row
       from ${schema}.${table} where merchant_id like 'wm-%' group by bucket order by bucket`).then((r) => r.rows.map((x) => x.row));
    const { rows } = await pool.query<{ today: Date }>(`select date_trunc('day', now(), 'UTC') as today`);
    const today = new Date(rows[0].today).getTime();
    // The watermark's place: one finished day stays above it (ROLLUP_DELAY_DAYS).
    const yesterday = today - 86_400_000;
    // As if the projector had been down for two days: the watermark is two days behind that.
    await pool.query(`update ${schema}.rollup_watermark set materialized_until = $1`, [new Date(yesterday - 2 * 86_400_000)]);
    const events = generateEvents({
      seed: 9, count: 300, merchants: 5, merchantPrefix: 'wm-', from: new Date(yesterday - 2 * 86_400_000), to: new Date(yesterday),
    });
    expect(await sendEvents(h.url, h.key, events)).toBe(300);
    const expected = asStoredTotals(expectedTotals(events));
    await eventually(async () => expect(await projected('wm-')).toEqual(expected), 20_000);
    await eventually(async () => {
      const { rows: marks } = await pool.query<{ at: Date }>(`select distinct materialized_until as at from ${schema}.rollup_watermark`);
      expect(marks.map((m) => new Date(m.at).getTime())).toEqual([yesterday]);
    }, 20_000);
    // The hourly rollup is exactly the 15-minute cells summed per hour, the daily one per day.
    const perHour = new Map<string, [number, bigint]>();
    const perDay = new Map<string, [number, bigint]>();
    for (const e of events) {
      // Every event makes its hour's and day's rows; completed payments count in them.
      for (const [map, key] of [[perHour, `${e.occurredAt.slice(0, 10)} ${e.occurredAt.slice(11, 13)}`], [perDay, `${e.occurredAt.slice(0, 10)} 00`]] as const) {
        const [n, gross] = map.get(key) ?? [0, 0n];
        map.set(key, e.paymentCompleted ? [n + 1, gross + BigInt(e.paymentCompleted.amount.minorUnits)] : [n, gross]);
      }
    }
    const rowsOf = (map: Map<string, [number, bigint]>) => [...map].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, [n, g]]) => `${k}|${n}|${g}`);
    expect(await rollups('metrics_hourly')).toEqual(rowsOf(perHour));
    expect(await rollups('metrics_daily')).toEqual(rowsOf(perDay));
  });

  it('ignores duplicated, replayed and out-of-order messages, and fills a skipped range from the store', async () => {
    const events = generateEvents({ seed: 2, count: 400, merchants: 1, merchantPrefix: 'dup-', ...window });
    await sendEvents(h.url, h.key, events, 100);
    const expected = asStoredTotals(expectedTotals(events));
    await eventually(async () => expect(await projected('dup-')).toEqual(expected));

    // Forge what a misbehaving network could deliver: the partition's history again, newest first, under fresh
    // message ids (so JetStream does not deduplicate), plus one message far past the checkpoint.
    const { rows } = await pool.query<{ partition: number }>(`select partition from event_store.events where merchant_id = 'dup-0' limit 1`);
    const partition = Number(rows[0].partition);
    const stored = await readPartition(pool, partition, 0, 100_000);
    const nc = await connect({ servers: h.nats.url });
    const js = jetstream(nc);
    const publish = (slice: typeof stored, id: string) => {
      const hdrs = natsHeaders();
      hdrs.set('Nats-Msg-Id', id);
      return js.publish(`payments.events.${partition}`, encodeEventBatch(partition, slice), { headers: hdrs });
    };
    for (let i = stored.length; i > 0; i -= 50) await publish(stored.slice(Math.max(0, i - 50), i), `replay-${i}`);
    const more = generateEvents({ seed: 3, count: 60, merchants: 1, merchantPrefix: 'dup-', ...window });
    await sendEvents(h.url, h.key, more, 60);
    await nc.close();

    const all = asStoredTotals(expectedTotals([...events, ...more]));
    await eventually(async () => expect(await projected('dup-')).toEqual(all));
    const checkpoint = (await readCheckpoints(pool, PROJECTION_NAME, 1)).find((c) => c.partition === partition)!;
    const head = await pool.query<{ head: string }>(`select head from event_store.partition_heads where partition = $1`, [partition]);
    expect(checkpoint.position).toBe(Number(head.rows[0].head));
  });

  it('never applies a forged message, even one at checkpoint + 1 that arrives before the real events (only the store says what an event is)', async () => {
    const events = generateEvents({ seed: 11, count: 100, merchants: 1, merchantPrefix: 'forge-', ...window });
    await sendEvents(h.url, h.key, events, 100);
    await eventually(async () => expect(await projected('forge-')).toEqual(asStoredTotals(expectedTotals(events))));
    const { rows } = await pool.query<{ partition: number }>(`select partition from event_store.events where merchant_id = 'forge-0' limit 1`);
    const partition = Number(rows[0].partition);
    const head = Number((await pool.query<{ head: string }>(`select head from event_store.partition_heads where partition = $1`, [partition])).rows[0].head);

    // Anyone who can reach NATS publishes, at the positions the next real events will take, events of their own.
    const forged = generateEvents({ seed: 12, count: 30, merchants: 1, merchantPrefix: 'forge-', ...window });
    const nc = await connect({ servers: h.nats.url });
    const hdrs = natsHeaders();
    hdrs.set('Nats-Msg-Id', `forged-${head}`);
    hdrs.set('Payments-From-Position', String(head + 1));
    hdrs.set('Payments-To-Position', String(head + forged.length));
    const body = forged.map((e, i) => ({ position: head + 1 + i, recordedAt: new Date().toISOString(), payloadJson: JSON.stringify(e) }));
    await jetstream(nc).publish(`payments.events.${partition}`, encodeEventBatch(partition, body), { headers: hdrs });
    await nc.close();

    const real = generateEvents({ seed: 13, count: 30, merchants: 1, merchantPrefix: 'forge-', ...window });
    await sendEvents(h.url, h.key, real, 30);
    const expected = asStoredTotals(expectedTotals([...events, ...real]));
    // Otherwise the comparison could not tell the forged events from the real ones.
    expect(asStoredTotals(expectedTotals([...events, ...forged]))).not.toEqual(expected);
    await eventually(async () => expect(await projected('forge-')).toEqual(expected));
    await eventually(async () => {
      const checkpoint = (await readCheckpoints(pool, PROJECTION_NAME, 1)).find((c) => c.partition === partition)!;
      expect(checkpoint.position).toBe(head + real.length);
    });
  });

  it('keeps projecting from the store while NATS is down', async () => {
    await h.nats.stop();
    try {
      const events = generateEvents({ seed: 4, count: 300, merchants: 5, merchantPrefix: 'down-', ...window });
      await sendEvents(h.url, h.key, events);
      await eventually(async () => expect(await projected('down-')).toEqual(asStoredTotals(expectedTotals(events))), 20_000);
    } finally {
      await h.nats.start();
    }
  });

  it('reports lag and a stall on /metrics and in its log, and recovers', async () => {
    const events = generateEvents({ seed: 5, count: 20, merchants: 1, merchantPrefix: 'stall-', ...window });
    await sendEvents(h.url, h.key, events.slice(0, 1));
    await eventually(async () => expect((await projected('stall-')).size).toBeGreaterThan(0));
    const partition = Number((await pool.query(`select partition from event_store.events where merchant_id = 'stall-0' limit 1`)).rows[0].partition);
    // Hold the partition's checkpoint row so the worker cannot commit.
    const blocker = await pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query(
        `select 1 from projections.checkpoints where projection = $1 and version = 1 and partition = $2 for update`,
        [PROJECTION_NAME, partition],
      );
      await sendEvents(h.url, h.key, events.slice(1));
      await eventually(async () => {
        const text = await projector.metrics.registry.metrics();
        expect(text).toContain(`projector_partition_stalled{projection="merchant-metrics",version="1",partition="${partition}"} 1`);
        expect(text).toContain(`projector_partition_lag_events{projection="merchant-metrics",version="1",partition="${partition}"} 19`);
        expect(warnings.some((w) => w.startsWith(`partition ${partition} STALLED: 19 events wait`))).toBe(true);
      }, 15_000);
    } finally {
      await blocker.query('rollback');
      blocker.release();
    }
    await eventually(async () => {
      const text = await projector.metrics.registry.metrics();
      expect(text).toContain(`projector_partition_stalled{projection="merchant-metrics",version="1",partition="${partition}"} 0`);
      expect(text).toContain(`projector_partition_lag_events{projection="merchant-metrics",version="1",partition="${partition}"} 0`);
    }, 15_000);
    expect(await projected('stall-')).toEqual(asStoredTotals(expectedTotals(events)));
  });
});
