import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducerApp, signMerchantToken } from '@app/access';
import { createKysely } from '@app/database';
import { HaTopology, serverOwnedTempDir, type PatroniNode } from '@app/ha';
import { eventually } from '@app/testing';
import { asStoredTotals, expectedTotals, generateEvents, readModelTotals } from '../libs/merchant-metrics/src/testing/index.js';
import type { PaymentEventJson } from '../libs/projections/src/payment-event.json.js';
import { AppProcess, COMMAND_API, PROJECTOR, QUERY_API } from './support/app-process.js';
import { disjointBatches, producers, queriers, wrongAnswers, type ProducerReport, type QueryReport } from './support/fault-load.js';

const SCHEMA = 'rm_merchant_metrics_v1';
const window = { from: new Date('2026-09-01T00:00:00Z'), to: new Date('2026-11-20T00:00:00Z') };
const SECRET = randomBytes(24).toString('hex');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The replicated topology with every engine real: Patroni (etcd) keeping a
 * PostgreSQL primary and its synchronous hot standby, a 3-node JetStream
 * cluster, haproxy in front of the database and of two instances of each API,
 * and two projectors. Each fault runs under producers that retry what was not
 * acknowledged and merchants asking through the load balancer; failures are
 * counted at the clients. After each: every acknowledged event once in the
 * store and in the read model, and no answer broke its freshness.
 */
describe('the replicated topology (Patroni primary + standby, 3 nats-servers, haproxy, two instances of each app)', () => {
  let topology: HaTopology;
  let admin: pg.Pool;
  let key: string;
  const command: AppProcess[] = [];
  const projector: AppProcess[] = [];
  const query: AppProcess[] = [];
  let merchants: { merchantId: string; token: string }[];
  let round = 0;

  beforeAll(async () => {
    topology = await HaTopology.create({
      dir: serverOwnedTempDir('ha-e2e-'),
      ports: { primary: 0, replica: 0, commandApi: 0, queryApi: 0, stats: 0, commandApiInstances: [0, 0], queryApiInstances: [0, 0] },
    });
    await topology.start();
    admin = new pg.Pool({ connectionString: topology.adminUrl(), max: 4, connectionTimeoutMillis: 3000 });
    admin.on('error', () => undefined);
    ({ key } = await createProducerApp(createKysely(admin), 'ha-e2e'));
    const common = { MERCHANT_JWT_SECRET: SECRET, PROJECTOR_PROJECTIONS: 'merchant-metrics', PROJECTOR_VERSIONS: 'merchant-metrics=1' };
    for (const port of topology.ports.commandApiInstances) command.push(await AppProcess.start(COMMAND_API, { ...common, ...topology.appEnvironment('commandApi') }, { port }));
    for (let i = 0; i < 2; i++) projector.push(await AppProcess.start(PROJECTOR, { ...common, ...topology.appEnvironment('projector') }));
    for (const port of topology.ports.queryApiInstances) query.push(await AppProcess.start(QUERY_API, { ...common, ...topology.appEnvironment('queryApi') }, { port }));
    // Even merchants pay in one currency only: their totals are one number.
    merchants = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const merchantId = `ha-${i * 2}`;
      return { merchantId, token: await signMerchantToken(SECRET, { kind: 'merchant', merchantId }, { ttlSeconds: 3600 }) };
    }));
    await waitBalanced();
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...command, ...projector, ...query].map((a) => a.stop()));
    await admin?.end();
    await topology?.dispose();
  });

  const lb = () => ({ command: `http://127.0.0.1:${topology.ports.commandApi}`, query: `http://127.0.0.1:${topology.ports.queryApi}` });

  /** Every API instance up in haproxy, and the database healthy. */
  async function waitBalanced(): Promise<void> {
    await topology.postgres.waitHealthy();
    await eventually(async () => {
      const servers = await topology.haproxy!.servers();
      const apis = servers.filter((s) => s.proxy === 'command_api' || s.proxy === 'query_api');
      expect(apis.map((s) => s.status)).toEqual(['UP', 'UP', 'UP', 'UP']);
      expect(servers.filter((s) => s.proxy === 'postgres_replica' && s.status === 'UP')).toHaveLength(1);
    }, 30_000, 250);
  }

  /** Load through the load balancer while `fault` runs; then everything checked. */
  async function underLoad(name: string, fault: (load: { producers: ReturnType<typeof producers>; queries: ReturnType<typeof queriers> }) => Promise<void>) {
    const prefix = `ha${++round}-`;
    // The merchants asked about are `ha-…`: their events are mixed into every round's.
    const all = generateEvents({ seed: 100 + round, count: 60_000, merchants: 200, merchantPrefix: prefix, ...window })
      .map((e, i): PaymentEventJson => (i % 4 === 0 ? { ...e, merchantId: `ha-${(i / 4) % 40}` } : e));
    const load = { producers: producers(lb().command, key, 3, disjointBatches(all, 3, 20)), queries: queriers(lb().query, merchants, 3, window) };
    await pause(3000);
    load.producers.resetGap();
    load.queries.resetGap();
    await fault(load);
    await pause(3000);
    const sent = await load.producers.stop();
    const asked = await load.queries.stop();
    await verify(prefix, sent, asked);
    console.log(
      `${name}: ${sent.acknowledged.length} events acknowledged, ${sent.failedRequests} ingest requests failed at the client, longest time without an acknowledged ingest ` +
        `${sent.longestGapMs.toFixed(0)} ms; ${asked.answers.length} queries answered, ${asked.failedQueries} failed${asked.failures.length ? ` (${asked.failures[0]})` : ''}, ` +
        `longest time without an answer ${asked.longestGapMs.toFixed(0)} ms`,
    );
    return { sent, asked };
  }

  /** Every acknowledged event once in the store and in the read model; every answer within what the store held. */
  async function verify(prefix: string, sent: ProducerReport, asked: QueryReport): Promise<void> {
    const ids = [...new Set(sent.acknowledged.map((e) => e.eventId))];
    await eventually(async () => {
      const { rows } = await admin.query<{ n: number; distinct: number }>(
        `select count(*)::int as n, count(distinct event_id)::int as distinct from event_store.events where event_id = any($1::uuid[])`, [ids]);
      expect(rows[0]).toEqual({ n: ids.length, distinct: ids.length });
    }, 30_000, 500);
    const unique = [...new Map(sent.acknowledged.map((e) => [e.eventId, e])).values()];
    await eventually(async () => {
      expect(await readModelTotals(admin, SCHEMA, prefix)).toEqual(asStoredTotals(expectedTotals(unique.filter((e) => e.merchantId.startsWith(prefix)))));
    }, 60_000, 500);
    expect(await wrongAnswers(admin, asked.answers)).toEqual([]);
    expect(asked.answers.length).toBeGreaterThan(50);
  }

  async function waitUp(proxy: string, server: string): Promise<void> {
    await eventually(async () => {
      const s = (await topology.haproxy!.servers()).find((x) => x.proxy === proxy && x.server === server);
      expect(s?.status).toBe('UP');
    }, 30_000, 100);
  }

  it('restarts every app instance in turn (SIGTERM, ready, next) with zero failed requests', async () => {
    const { sent, asked } = await underLoad('rolling restart', async () => {
      for (const [i, app] of command.entries()) {
        await app.stop();
        await app.start();
        await waitUp('command_api', `command_api_${i + 1}`);
      }
      for (const app of projector) {
        await app.stop();
        await app.start();
      }
      for (const [i, app] of query.entries()) {
        await app.stop();
        await app.start();
        await waitUp('query_api', `query_api_${i + 1}`);
      }
    });
    expect(sent.failedRequests).toBe(0);
    expect(asked.failedQueries).toBe(0);
  }, 240_000);

  it('loses nothing when a command API instance and a projector are killed -9 mid-batch', async () => {
    await underLoad('kill -9 of a command API and a projector', async () => {
      await Promise.all([command[0]!.kill(), projector[0]!.kill()]);
      await pause(3000);
      await command[0]!.start();
      await projector[0]!.start();
      await waitUp('command_api', 'command_api_1');
    });
  }, 240_000);

  it('keeps answering from the primary when the standby is killed -9, with zero failed requests, and takes it back', async () => {
    const standby = await standbyNode();
    const { sent, asked } = await underLoad('standby killed -9', async (load) => {
      const before = load.queries.report.answers.length;
      await standby.kill();
      // Queries move to the primary: its answers carry no replica lag.
      await eventually(async () => expect(load.queries.report.answers.slice(before).some((a) => a.replicaLagSeconds === null)).toBe(true), 30_000, 200);
      await pause(2000);
      standby.start();
      await topology.postgres.waitHealthy(60_000);
    });
    expect(asked.answers.some((a) => a.replicaLagSeconds !== null)).toBe(true);
    expect(sent.failedRequests).toBe(0);
    expect(asked.failedQueries).toBe(0);
    await waitBalanced();
  }, 240_000);

  it('fails over to the synchronous standby when the primary is killed -9: nothing acknowledged is lost, and the old primary rejoins', async () => {
    const old = await topology.postgres.primary();
    let ingestBackMs = 0;
    await underLoad('primary killed -9', async (load) => {
      const acked = load.producers.report.acknowledged.length;
      const killedAt = performance.now();
      await old.kill();
      await eventually(async () => expect(load.producers.report.acknowledged.length).toBeGreaterThan(acked + 200), 60_000, 100);
      ingestBackMs = performance.now() - killedAt;
      old.start();
      await topology.postgres.waitHealthy(90_000);
    });
    const now = await topology.postgres.primary();
    expect(now.name).not.toBe(old.name);
    expect((await topology.postgres.members()).find((m) => m.name === old.name)?.role).toMatch(/replica|sync_standby/);
    console.log(`primary ${old.name} killed -9: ${now.name} promoted, ingest back ${ingestBackMs.toFixed(0)} ms after the kill`);
    expect(ingestBackMs).toBeLessThan(60_000);
    await waitBalanced();
  }, 300_000);

  async function standbyNode(): Promise<PatroniNode> {
    const primary = await topology.postgres.primary();
    return topology.postgres.nodes.find((n) => n !== primary)!;
  }
});
