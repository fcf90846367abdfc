import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { EventStore, partitionOf, readPartitionCount } from '@app/event-store';
import { PAYMENTS_STREAM } from '@app/messaging';
import { eventually } from '@app/testing';
import { startCommandApiHarness, type CommandApiHarness } from '../apps/command-api/src/testing/command-api-harness.js';
import { merchantMetricsProjection } from '@app/merchant-metrics';
import { asStoredTotals, expectedTotals, generateEvents, readModelTotals } from '../libs/merchant-metrics/src/testing/index.js';
import { AppProcess, PROJECTOR } from './support/app-process.js';
import { AppWatch, residentMiB } from './support/process-watch.js';
import { appendToStore } from './support/store-backlog.js';

/** The version a projector with its normal configuration follows (the definition's default). */
const VERSION = merchantMetricsProjection.defaultVersion;
const MERCHANT = 'whale-0';
const WARM_UP = 1000;
/** Stored and published while the projector is frozen: it resumes this far behind the stream. */
const BACKLOG = 200_000;
/** Sent while it works through the backlog. */
const LIVE = 100_000;
const TOTAL = WARM_UP + BACKLOG + LIVE;
/** The small memory bound under test: events of a partition held from JetStream, not yet applied. */
const BUFFER_EVENTS = 2000;
/** Peak RSS allowed. An idle projector is about 125 MiB here (compiled: docs/decisions/0014-compiled-apps.md). */
const MAX_RSS_MIB = 512;

describe('a hot partition: one merchant far ahead of the projector', () => {
  let h: CommandApiHarness;
  let pool: pg.Pool;
  let store: EventStore;
  const processes: AppProcess[] = [];

  beforeAll(async () => {
    h = await startCommandApiHarness();
    pool = createPool({ connectionString: h.database.url, max: 6 });
    store = new EventStore(pool, await readPartitionCount(pool));
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await pool?.end();
    await h?.close();
  });

  const startProjector = async (env: Record<string, string>) => {
    const p = await AppProcess.start(PROJECTOR, {
      DATABASE_URL: h.database.url, NATS_URL: h.nats.url, ...env,
    });
    processes.push(p);
    return p;
  };
  const applied = async () =>
    Number((await pool.query(`select coalesce(sum(events), 0) as n from projections.checkpoints where version = $1`, [VERSION])).rows[0].n);
  const published = async () => Number((await pool.query(`select sum(published) as n from event_store.publication_heads`)).rows[0].n);
  /** The projector's pid: its member row's owner is host:pid:nonce. */
  const memberPid = async () => {
    const { rows } = await pool.query<{ owner: string }>(`select owner from projections.members where version = $1`, [VERSION]);
    if (rows.length !== 1) throw new Error(`${rows.length} projector members`);
    return Number(rows[0].owner.split(':').at(-2));
  };

  it('works through a large backlog of one merchant in bounded memory, answering /health, connected to NATS, with exact totals', async () => {
    // Live traffic, as a point of sale sends it: the last hour. At most 200 customers, so that distinct counts are exact in every version.
    const now = Date.now();
    const events = generateEvents({
      seed: 31, count: TOTAL, merchants: 1, merchantPrefix: 'whale-', customersPerMerchant: 200,
      from: new Date(now - 3_600_000), to: new Date(now - 60_000),
    });
    expect(new Set(events.map((e) => e.merchantId))).toEqual(new Set([MERCHANT]));
    const expected = asStoredTotals(expectedTotals(events));
    const partition = partitionOf(MERCHANT, store.partitions);

    const projector = await startProjector({ PROJECTOR_BUFFER_EVENTS: String(BUFFER_EVENTS) });
    const pid = await eventually(memberPid, 30_000, 20);
    const nc = await connect({ servers: h.nats.url });
    const jsm = await jetstreamManager(nc);
    const consumer = () => jsm.consumers.info(PAYMENTS_STREAM, `merchant-metrics-v${VERSION}-p${partition}`);
    try {
      // Following the stream, its pull running: the case that used to grow without bound.
      expect(await appendToStore(store, events.slice(0, WARM_UP))).toBe(WARM_UP);
      await eventually(async () => expect(await applied()).toBe(WARM_UP), 30_000);
      await eventually(async () => expect((await consumer()).delivered.stream_seq).toBeGreaterThan(0), 30_000);

      // Far behind at once, whatever the machine's speed: frozen while the merchant's backlog is stored and published.
      projector.signal('SIGSTOP');
      try {
        expect(await appendToStore(store, events.slice(WARM_UP, WARM_UP + BACKLOG))).toBe(BACKLOG);
        await eventually(async () => expect(await published()).toBe(WARM_UP + BACKLOG), 60_000, 50);
        expect((await consumer()).num_pending).toBeGreaterThan(0);
      } finally {
        projector.signal('SIGCONT');
      }

      const watch = new AppWatch(pid, projector.url, projector.adminUrl, {
        name: 'projector_partition_buffered_events', labels: { projection: 'merchant-metrics', version: String(VERSION), partition: String(partition) },
      });
      const started = performance.now();
      try {
        // The merchant goes on sending while the projector works through its backlog.
        expect(await appendToStore(store, events.slice(WARM_UP + BACKLOG))).toBe(LIVE);
        await eventually(async () => expect(await applied()).toBe(TOTAL), 100_000, 100);
        const seconds = (performance.now() - started) / 1000;
        // And the stream's copy of it all delivered and acknowledged, through the same bounded buffer.
        await eventually(async () => {
          const info = await consumer();
          expect([info.num_pending, info.num_ack_pending]).toEqual([0, 0]);
        }, 30_000, 100);
        const report = await watch.stop();
        const peak = residentMiB(pid, 'VmHWM');
        console.log(
          `hot partition: a backlog of ${BACKLOG} events of one merchant and ${LIVE} more sent meanwhile applied in ${seconds.toFixed(1)} s ` +
          `(${Math.round((BACKLOG + LIVE) / seconds)} events/s); peak RSS ${peak.toFixed(0)} MiB; slowest /health/live ` +
          `${report.slowestLiveMs.toFixed(0)} ms over ${report.livePolls} polls; longest event-loop delay ${report.peakEventLoopLagMs.toFixed(0)} ms; ` +
          `most events buffered ${report.peakMetric} (bound ${BUFFER_EVENTS})`,
        );
        expect(report.failures).toEqual([]);
        expect(peak).toBeLessThan(MAX_RSS_MIB);
        expect(report.slowestLiveMs).toBeLessThan(1000);
        expect(report.peakEventLoopLagMs).toBeLessThan(1000);
        expect(report.natsDownPolls).toBe(0);
        expect(projector.output).not.toContain('lost the NATS connection');
        expect(report.peakMetric).toBeGreaterThan(0);
        expect(report.peakMetric).toBeLessThanOrEqual(BUFFER_EVENTS);
      } finally {
        await watch.stop();
      }
    } finally {
      await nc.close();
    }

    const schema = (await pool.query<{ schema_name: string }>(`select schema_name from projections.versions where version = $1`, [VERSION])).rows[0].schema_name;
    expect(await readModelTotals(pool, schema, 'whale-')).toEqual(expected);
    const { rows } = await pool.query<{ position: string }>(`select position from projections.checkpoints where version = $1 and partition = $2`, [VERSION, partition]);
    expect(Number(rows[0].position)).toBe(TOTAL);
  }, 150_000);
});
