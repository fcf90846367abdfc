import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducerApp } from '@app/access';
import { createKysely, createPool } from '@app/database';
import { PAYMENTS_STREAM } from '@app/messaging';
import { eventually, NatsServerProcess, testDatabase, type TestDatabase } from '@app/testing';
import { asStoredTotals, expectedTotals, generateEvents, readModelTotals } from '../libs/merchant-metrics/src/testing/index.js';
import { AppProcess, COMMAND_API, PROJECTOR } from './support/app-process.js';
import { disjointBatches, producers } from './support/fault-load.js';

const SCHEMA = 'rm_merchant_metrics_v1';
const window = { from: new Date('2026-09-01T00:00:00Z'), to: new Date('2026-11-20T00:00:00Z') };

describe('a 3-node NATS JetStream cluster (stream PAYMENTS with 3 replicas)', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let key: string;
  let servers: NatsServerProcess[];
  const apps: AppProcess[] = [];

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 4 });
    ({ key } = await createProducerApp(createKysely(pool), 'cluster-e2e'));
    servers = await NatsServerProcess.startCluster(3);
    const natsUrl = NatsServerProcess.clusterUrl(servers);
    apps.push(await AppProcess.start(COMMAND_API, { DATABASE_URL: database.url, NATS_URL: natsUrl, NATS_STREAM_REPLICAS: '3' }));
    apps.push(await AppProcess.start(PROJECTOR, {
      DATABASE_URL: database.url, NATS_URL: natsUrl, PROJECTOR_PROJECTIONS: 'merchant-metrics', PROJECTOR_VERSIONS: 'merchant-metrics=1',
    }));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await Promise.all((servers ?? []).map((s) => s.dispose()));
    await pool?.end();
    await database?.drop();
  });

  const streamInfo = async (server: NatsServerProcess) => {
    const nc = await connect({ servers: server.url, timeout: 2000 });
    try {
      return await (await jetstreamManager(nc)).streams.info(PAYMENTS_STREAM);
    } finally {
      await nc.close();
    }
  };
  const published = async () => Number((await pool.query(`select coalesce(sum(published), 0) as n from event_store.publication_heads`)).rows[0].n);
  const unpublished = async () =>
    Number((await pool.query(`select coalesce(sum(h.head - p.published), 0) as n from event_store.partition_heads h join event_store.publication_heads p using (partition)`)).rows[0].n);

  it('keeps ingest, publication and the read model exact when the stream leader is killed -9, and takes it back', async () => {
    const command = apps[0]!;
    await eventually(async () => expect((await streamInfo(servers[0]!)).config.num_replicas).toBe(3), 30_000, 200);
    const info = await streamInfo(servers[0]!);
    const leader = servers.find((s) => s.serverName === info.cluster?.leader)!;
    expect(leader).toBeDefined();
    expect(info.cluster?.replicas?.length).toBe(2);

    const all = generateEvents({ seed: 31, count: 200_000, merchants: 300, merchantPrefix: 'nc-', ...window });
    const load = producers(command.url, key, 4, disjointBatches(all, 4, 20));
    await new Promise((r) => setTimeout(r, 3000));

    await leader.stop('SIGKILL');
    const killedAt = performance.now();
    const publishedAtKill = await published();
    // Publication resumes on the new leader: 1,000 more events published while ingest goes on.
    await eventually(async () => expect(await published()).toBeGreaterThan(publishedAtKill + 1000), 30_000, 100);
    const publicationBackMs = performance.now() - killedAt;
    await new Promise((r) => setTimeout(r, 2000));
    await leader.start();
    await new Promise((r) => setTimeout(r, 3000));
    const report = await load.stop();

    // Every acknowledged event once in the store, published, and counted once in the read model.
    const ids = report.acknowledged.map((e) => e.eventId);
    const { rows } = await pool.query<{ n: number; distinct: number }>(
      `select count(*)::int as n, count(distinct event_id)::int as distinct from event_store.events where event_id = any($1::uuid[])`, [ids]);
    expect(rows[0]).toEqual({ n: new Set(ids).size, distinct: new Set(ids).size });
    await eventually(async () => expect(await unpublished()).toBe(0), 30_000, 200);
    const unique = [...new Map(report.acknowledged.map((e) => [e.eventId, e])).values()];
    await eventually(async () => expect(await readModelTotals(pool, SCHEMA, 'nc-')).toEqual(asStoredTotals(expectedTotals(unique))), 60_000, 500);
    // The restarted server caught up as a replica.
    await eventually(async () => {
      const after = await streamInfo(leader);
      expect(after.state.last_seq).toBe((await streamInfo(servers.find((s) => s !== leader)!)).state.last_seq);
    }, 30_000, 500);
    console.log(
      `NATS leader ${leader.serverName} killed: ${report.acknowledged.length} events acknowledged, ${report.failedRequests} requests failed at the client, ` +
        `longest time without an acknowledged ingest ${report.longestGapMs.toFixed(0)} ms, publication back within ${publicationBackMs.toFixed(0)} ms`,
    );
    // The command API stores first and publishes after: losing a NATS server must not stop ingest.
    expect(report.failedRequests).toBe(0);
  }, 180_000);

  it('keeps accepting while the whole cluster is away for 30 s, and publishes everything once it is back', async () => {
    const command = apps[0]!;
    const all = generateEvents({ seed: 37, count: 100_000, merchants: 300, merchantPrefix: 'np-', ...window });
    const load = producers(command.url, key, 2, disjointBatches(all, 2, 20));
    await new Promise((r) => setTimeout(r, 1000));
    // Away, as a partition between the command API and NATS looks to the API: no server answers.
    await Promise.all(servers.map((s) => s.stop('SIGKILL')));
    const acceptedBefore = load.report.acknowledged.length;
    const awayFrom = published();
    await new Promise((r) => setTimeout(r, 30_000));
    const acceptedWhileAway = load.report.acknowledged.length - acceptedBefore;
    await Promise.all(servers.map((s) => s.start()));
    const backAt = performance.now();
    await new Promise((r) => setTimeout(r, 2000));
    const report = await load.stop();
    expect(report.failedRequests).toBe(0);
    expect(acceptedWhileAway).toBeGreaterThan(1000);
    await eventually(async () => expect(await unpublished()).toBe(0), 60_000, 200);
    const publishedAfterMs = performance.now() - backAt;
    expect(await published()).toBeGreaterThan(await awayFrom);
    const unique = [...new Map(report.acknowledged.map((e) => [e.eventId, e])).values()];
    await eventually(async () => expect(await readModelTotals(pool, SCHEMA, 'np-')).toEqual(asStoredTotals(expectedTotals(unique))), 60_000, 500);
    console.log(
      `NATS cluster away 30 s: ${report.acknowledged.length} events acknowledged (${acceptedWhileAway} while it was away), ` +
        `${report.failedRequests} failed requests, longest gap ${report.longestGapMs.toFixed(0)} ms; all published ${publishedAfterMs.toFixed(0)} ms after the cluster was back`,
    );
  }, 180_000);
});
