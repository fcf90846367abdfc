import { jetstreamManager, type ConsumerInfo } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { PAYMENTS_STREAM } from '@app/messaging';
import { eventually } from '@app/testing';
import { startCommandApiHarness, type CommandApiHarness } from '../apps/command-api/src/testing/command-api-harness.js';
import { sendEvents } from '../apps/projector/src/testing/send-events.js';
import { asStoredTotals, expectedTotals, generateEvents, readModelTotals } from '../libs/merchant-metrics/src/testing/index.js';
import { AppProcess, PROJECTOR } from './support/app-process.js';

const schema = 'rm_merchant_metrics_v1';
const PARTITIONS = 16;
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

  const startProjector = async (options: { waitReady?: boolean; env?: Record<string, string> } = {}) => {
    const p = await AppProcess.start(PROJECTOR, {
      DATABASE_URL: h.database.url, NATS_URL: h.nats.url, PROJECTOR_LEASE_SECONDS: '3', PROJECTOR_BATCH_EVENTS: '500', PROJECTOR_VERSIONS: 'merchant-metrics=1', ...options.env,
    }, options);
    processes.push(p);
    return p;
  };
  const projectedEvents = async () =>
    Number((await pool.query(`select coalesce(sum(events), 0) as n from projections.checkpoints where projection = 'merchant-metrics' and version = 1`)).rows[0].n);
  const owners = async () =>
    (await pool.query(`select owner, count(*)::int as n from projections.leases where projection = 'merchant-metrics' and expires_at > now() group by owner order by owner`)).rows;

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
  it('redelivers to a restarted process what a killed one held delivered and unacknowledged mid-batch, and totals stay exact', async () => {
    await Promise.all(processes.map((p) => p.stop()));
    const before = await projectedEvents();
    const nc = await connect({ servers: h.nats.url });
    const blocker = await pool.connect();
    try {
      const jsm = await jetstreamManager(nc);
      const name = (p: number) => `merchant-metrics-v1-p${p}`;
      const consumers = (): Promise<ConsumerInfo[]> =>
        Promise.all(Array.from({ length: PARTITIONS }, (_, p) => jsm.consumers.info(PAYMENTS_STREAM, name(p))));
      // A 2 s ack wait instead of 30 s, so the redelivery this test waits for comes within seconds. Consumers
      // made with the default first: the setting must reach existing ones.
      const shortAckWait = { PROJECTOR_ACK_WAIT_SECONDS: '2' };
      const withDefaults = await startProjector();
      await eventually(async () => expect((await consumers()).map((i) => i.config.ack_wait)).toEqual(new Array(PARTITIONS).fill(nanos(30_000))), 30_000);
      await withDefaults.stop();

      const first = await startProjector({ env: shortAckWait });
      await eventually(async () => expect((await owners()).map((o) => o.n)).toEqual([PARTITIONS]), 30_000);
      await eventually(async () => expect((await consumers()).map((i) => i.config.ack_wait)).toEqual(new Array(PARTITIONS).fill(nanos(2000))), 30_000);
      // Holding every checkpoint row stops each batch at its first statement, inside its transaction: nothing commits, nothing is acked.
      await blocker.query('begin');
      await blocker.query(`select 1 from projections.checkpoints where projection = 'merchant-metrics' and version = 1 for update`);

      const events = generateEvents({ seed: 13, count: 3000, merchants: 100, merchantPrefix: 'k3-', ...window });
      expect(await sendEvents(h.url, h.key, events, 250)).toBe(3000);
      await eventually(async () => {
        const unpublished = await pool.query(
          `select count(*)::int as n from event_store.partition_heads h join event_store.publication_heads p using (partition) where h.head <> p.published`,
        );
        expect(unpublished.rows[0].n).toBe(0);
        const infos = await consumers();
        expect(infos.map((i) => i.num_pending)).toEqual(new Array(PARTITIONS).fill(0));
        expect(infos.reduce((sum, i) => sum + i.num_ack_pending, 0)).toBeGreaterThan(0);
        const waiting = await pool.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'projector' and wait_event_type = 'Lock'`);
        expect(waiting.rows[0].n).toBeGreaterThan(0);
      }, 30_000);
      await first.kill();
      // Everything is published and delivered: from here on every delivery is a redelivery.
      const atKill = await consumers();
      const pendingAtKill = atKill.reduce((sum, i) => sum + i.num_ack_pending, 0);
      const streamAtKill = (await jsm.streams.info(PAYMENTS_STREAM)).state.last_seq;
      expect(pendingAtKill).toBeGreaterThan(0);
      expect(atKill.map((i) => i.num_pending)).toEqual(new Array(PARTITIONS).fill(0));

      await blocker.query('rollback');
      // The dead process's blocked transaction ends with its connection, committing nothing.
      await eventually(async () => {
        const left = await pool.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'projector'`);
        expect(left.rows[0].n).toBe(0);
      }, 30_000);
      expect(await readModelTotals(pool, schema, 'k3-')).toEqual(new Map());
      expect(await projectedEvents()).toBe(before);

      await startProjector({ env: shortAckWait });
      const expected = asStoredTotals(expectedTotals(events));
      await eventually(async () => expect(await readModelTotals(pool, schema, 'k3-')).toEqual(expected), 60_000);
      expect(await projectedEvents()).toBe(before + 3000);
      await eventually(async () => {
        const now = await consumers();
        expect(now.map((i) => [i.num_pending, i.num_ack_pending])).toEqual(new Array(PARTITIONS).fill([0, 0]));
        // No new message reached the stream, so each later delivery was a redelivery, and each held message needed one to be acked.
        expect((await jsm.streams.info(PAYMENTS_STREAM)).state.last_seq).toBe(streamAtKill);
        now.forEach((info, p) => {
          expect(info.delivered.consumer_seq - atKill[p]!.delivered.consumer_seq).toBeGreaterThanOrEqual(atKill[p]!.num_ack_pending);
          expect(info.ack_floor.consumer_seq).toBe(info.delivered.consumer_seq);
        });
      }, 30_000);
      expect(await readModelTotals(pool, schema, 'k3-')).toEqual(expected);
    } finally {
      await blocker.query('rollback').catch(() => undefined);
      blocker.release();
      await nc.close();
    }
  });
});
