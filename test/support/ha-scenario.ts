import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { createProducerApp, signMerchantToken } from '@app/access';
import { createKysely } from '@app/database';
import { HaTopology, serverOwnedTempDir, until, type NatsServerProcess, type PatroniNode } from '@app/ha';
import { natsConnectOptions, PAYMENTS_STREAM } from '@app/messaging';
import { asStoredTotals, expectedTotals, generateEvents, readModelTotals } from '../../libs/merchant-metrics/src/testing/index.js';
import type { PaymentEventJson } from '../../libs/projections/src/payment-event.json.js';
import { AppProcess, COMMAND_API, PROJECTOR, QUERY_API } from './app-process.js';
import { disjointBatches, producers, queriers, wrongAnswers, type Answer } from './fault-load.js';

const SCHEMA = 'rm_merchant_metrics_v1';
const window = { from: new Date('2026-09-01T00:00:00Z'), to: new Date('2026-11-20T00:00:00Z') };
const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** An answer this stale or staler is not "back to normal". */
const NORMAL_LAG_SECONDS = 2;

/** What one fault cost, counted at the clients and checked against the store afterwards. */
export interface FaultReport {
  fault: string;
  acknowledged: number;
  failedRequests: number;
  longestIngestGapMs: number;
  answered: number;
  failedQueries: number;
  longestQueryGapMs: number;
  /** Acknowledged events the store does not hold (must be 0), and ones it holds twice (must be 0). */
  eventsLost: number;
  eventsDuplicated: number;
  /** The read model equals the totals of the acknowledged events. */
  readModelExact: boolean;
  /** Answers that counted fewer events than were recorded before their asOf, or more than were stored. */
  wrongAnswers: string[];
  /** From the fault until the publication heads had moved 500 events past where they stood. */
  publicationBackMs: number;
  /** From the fault until the last answer more than 2 s stale. */
  freshnessBackMs: number;
  /** What the fault itself measured (ingest back after a failover, …). */
  notes: string[];
}

export interface ScenarioOptions {
  /** Producers and queriers, each. */
  clients?: number;
  /** Events generated per fault. */
  events?: number;
  /** Seconds of load before and after the fault. */
  settleMs?: number;
}

/**
 * The replicated topology (HaTopology) with two instances of each app, and
 * faults run under load through the load balancer: what the fault-injection
 * tests assert on and `npm run bench:failover` prints.
 */
export class HaScenario {
  topology!: HaTopology;
  admin!: pg.Pool;
  readonly command: AppProcess[] = [];
  readonly projector: AppProcess[] = [];
  readonly query: AppProcess[] = [];
  private key!: string;
  private merchants!: { merchantId: string; token: string }[];
  private round = 0;

  constructor(private readonly options: ScenarioOptions = {}) {}

  async start(): Promise<void> {
    const secret = randomBytes(24).toString('hex');
    this.topology = await HaTopology.create({
      dir: serverOwnedTempDir('ha-scenario-'),
      ports: { primary: 0, replica: 0, commandApi: 0, queryApi: 0, stats: 0, commandApiInstances: [0, 0], queryApiInstances: [0, 0] },
    });
    await this.topology.start();
    this.admin = new pg.Pool({ connectionString: this.topology.adminUrl(), max: 4, connectionTimeoutMillis: 3000 });
    this.admin.on('error', () => undefined);
    ({ key: this.key } = await createProducerApp(createKysely(this.admin), 'ha-scenario'));
    const common = { MERCHANT_JWT_SECRET: secret, PROJECTOR_PROJECTIONS: 'merchant-metrics', PROJECTOR_VERSIONS: 'merchant-metrics=1' };
    const t = this.topology;
    for (const port of t.ports.commandApiInstances) this.command.push(await AppProcess.start(COMMAND_API, { ...common, ...t.appEnvironment('commandApi') }, { port }));
    for (let i = 0; i < 2; i++) this.projector.push(await AppProcess.start(PROJECTOR, { ...common, ...t.appEnvironment('projector') }));
    for (const port of t.ports.queryApiInstances) this.query.push(await AppProcess.start(QUERY_API, { ...common, ...t.appEnvironment('queryApi') }, { port }));
    // Even merchants pay in one currency only: their totals are one number.
    this.merchants = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const merchantId = `ha-${i * 2}`;
      return { merchantId, token: await signMerchantToken(secret, { kind: 'merchant', merchantId }, { ttlSeconds: 3600 }) };
    }));
    await this.waitBalanced();
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.command, ...this.projector, ...this.query].map((a) => a.stop()));
    await this.admin?.end();
    await this.topology?.dispose();
  }

  /** Every API instance up in haproxy, and the database healthy with its standby. */
  async waitBalanced(): Promise<void> {
    await this.topology.postgres.waitHealthy();
    await until(async () => {
      const servers = await this.topology.haproxy!.servers();
      const down = servers.filter((s) => (s.proxy === 'command_api' || s.proxy === 'query_api') && s.status !== 'UP');
      if (down.length) throw new Error(`down: ${down.map((s) => s.server).join(', ')}`);
      if (!servers.some((s) => s.proxy === 'postgres_replica' && s.status === 'UP')) throw new Error('no standby behind the read port');
    }, 30_000, 'the load balancer did not see every instance up');
  }

  async waitUp(proxy: string, server: string): Promise<void> {
    await until(async () => {
      const s = (await this.topology.haproxy!.servers()).find((x) => x.proxy === proxy && x.server === server);
      if (s?.status !== 'UP') throw new Error(`${server} is ${s?.status}`);
    }, 30_000, `${server} did not come up behind the load balancer`, 100);
  }

  async standby(): Promise<PatroniNode> {
    const primary = await this.topology.postgres.primary();
    return this.topology.postgres.nodes.find((n) => n !== primary)!;
  }

  private async published(): Promise<number> {
    return Number((await this.admin.query(`select coalesce(sum(published), 0) as n from event_store.publication_heads`)).rows[0].n);
  }

  /** Runs `fault` under load through the load balancer and measures what it cost. */
  async underLoad(name: string, fault: (report: FaultReport) => Promise<void>): Promise<FaultReport> {
    const prefix = `ha${++this.round}-`;
    const clients = this.options.clients ?? 3;
    const settle = this.options.settleMs ?? 3000;
    // The merchants asked about (`ha-…`) get a quarter of every round's events.
    const all = generateEvents({ seed: 100 + this.round, count: this.options.events ?? 60_000, merchants: 200, merchantPrefix: prefix, ...window })
      .map((e, i): PaymentEventJson => (i % 4 === 0 ? { ...e, merchantId: `ha-${(i / 4) % 40}` } : e));
    const lb = (port: number) => `http://127.0.0.1:${port}`;
    const send = producers(lb(this.topology.ports.commandApi), this.key, clients, disjointBatches(all, clients, 20));
    const ask = queriers(lb(this.topology.ports.queryApi), this.merchants, clients, window);
    this.current = send;
    this.currentAnswers = () => ask.report.answers;
    const report: FaultReport = {
      fault: name, acknowledged: 0, failedRequests: 0, longestIngestGapMs: 0, answered: 0, failedQueries: 0, longestQueryGapMs: 0,
      eventsLost: 0, eventsDuplicated: 0, readModelExact: false, wrongAnswers: [], publicationBackMs: 0, freshnessBackMs: 0, notes: [],
    };
    await pause(settle);
    send.resetGap();
    ask.resetGap();
    const publishedBefore = await this.published().catch(() => 0);
    const faultAt = performance.now();
    const faultWall = Date.now();
    const publication = (async () => {
      await until(async () => {
        if ((await this.published()) < publishedBefore + 500) throw new Error('publication has not moved on');
      }, 120_000, 'publication did not resume', 100).catch(() => undefined);
      report.publicationBackMs = performance.now() - faultAt;
    })();
    await fault(report);
    await pause(settle);
    const sent = await send.stop();
    const asked = await ask.stop();
    await publication;
    Object.assign(report, {
      acknowledged: sent.acknowledged.length, failedRequests: sent.failedRequests, longestIngestGapMs: sent.longestGapMs,
      answered: asked.answers.length, failedQueries: asked.failedQueries, longestQueryGapMs: asked.longestGapMs,
    });
    const stale = asked.answers.filter((a) => a.receivedAt.getTime() >= faultWall && a.lagSeconds > NORMAL_LAG_SECONDS);
    report.freshnessBackMs = stale.length ? Math.max(...stale.map((a) => a.receivedAt.getTime())) - faultWall : 0;
    if (stale.length) report.notes.push(`stale answers (s after the fault, worst lag): ${staleSpans(stale, faultWall)}`);
    const ids = [...new Set(sent.acknowledged.map((e) => e.eventId))];
    const { rows } = await this.admin.query<{ n: number; distinct: number }>(
      `select count(*)::int as n, count(distinct event_id)::int as distinct from event_store.events where event_id = any($1::uuid[])`, [ids]);
    report.eventsLost = ids.length - rows[0]!.distinct;
    report.eventsDuplicated = rows[0]!.n - rows[0]!.distinct;
    const unique = [...new Map(sent.acknowledged.map((e) => [e.eventId, e])).values()].filter((e) => e.merchantId.startsWith(prefix));
    const expected = asStoredTotals(expectedTotals(unique));
    report.readModelExact = await until(async () => {
      if (!isDeepStrictEqual(await readModelTotals(this.admin, SCHEMA, prefix), expected)) throw new Error('read model differs');
      return true;
    }, 60_000, 'the read model did not reach the acknowledged totals', 500).catch(() => false);
    report.wrongAnswers = await wrongAnswers(this.admin, asked.answers);
    if (asked.failures.length) report.notes.push(`failed queries: ${asked.failures.join('; ')}`);
    if (sent.failures.length) report.notes.push(`failed ingest: ${sent.failures.join('; ')}`);
    report.notes = report.notes.filter(Boolean);
    return report;
  }

  // The faults. Each leaves the topology healthy again.

  /** The same load with no fault: the baseline the others are compared with. */
  noFault(ms = 10_000): Promise<FaultReport> {
    return this.underLoad('no fault (baseline)', () => pause(ms));
  }

  rollingRestart(): Promise<FaultReport> {
    return this.underLoad('rolling restart of every instance', async (report) => {
      const began = performance.now();
      const steps: string[] = [];
      const step = (label: string) => steps.push(`${label} ${((performance.now() - began) / 1000).toFixed(1)}`);
      for (const [i, app] of this.command.entries()) {
        await app.stop();
        await app.start();
        await this.waitUp('command_api', `command_api_${i + 1}`);
        step(`command_api_${i + 1}`);
      }
      for (const [i, app] of this.projector.entries()) {
        await app.stop();
        await app.start();
        step(`projector_${i + 1}`);
      }
      for (const [i, app] of this.query.entries()) {
        await app.stop();
        await app.start();
        await this.waitUp('query_api', `query_api_${i + 1}`);
        step(`query_api_${i + 1}`);
      }
      report.notes.push(`instances back (s after the fault): ${steps.join(', ')}`);
    });
  }

  killApps(): Promise<FaultReport> {
    return this.underLoad('kill -9 of a command API and a projector', async () => {
      await Promise.all([this.command[0]!.kill(), this.projector[0]!.kill()]);
      await pause(3000);
      await this.command[0]!.start();
      await this.projector[0]!.start();
      await this.waitUp('command_api', 'command_api_1');
    });
  }

  /** The standby killed -9; notes whether answers came from the primary meanwhile (no replica lag in them). */
  async killStandby(): Promise<FaultReport & { answeredByStandby: boolean; answeredByPrimary: boolean }> {
    const standby = await this.standby();
    let answeredByPrimary = false;
    let answeredByStandby = false;
    const report = await this.underLoad('kill -9 of the standby', async () => {
      answeredByStandby = this.currentAnswers?.().some((a) => a.replicaLagSeconds !== null) ?? false;
      await standby.kill();
      const killedAt = new Date();
      // Read through the queriers' own answers: the primary's carry no replica lag.
      await until(async () => {
        if (!(await this.primaryAnswered(killedAt))) throw new Error('no answer from the primary yet');
      }, 30_000, 'queries did not move to the primary').catch(() => undefined);
      answeredByPrimary = await this.primaryAnswered(killedAt);
      await pause(2000);
      standby.start();
      await this.topology.postgres.waitHealthy(60_000);
    });
    await this.waitBalanced();
    return { ...report, answeredByStandby, answeredByPrimary };
  }

  /** The primary killed -9 (Patroni promotes the synchronous standby); the old one started again to rejoin. */
  async killPrimary(): Promise<FaultReport & { old: string; promoted: string; oldRole: string; ingestBackMs: number }> {
    const old = await this.topology.postgres.primary();
    let ingestBackMs = 0;
    const report = await this.underLoad('kill -9 of the PostgreSQL primary', async () => {
      const acked = await this.acknowledgedSoFar();
      const killedAt = performance.now();
      await old.kill();
      await until(async () => {
        if ((await this.acknowledgedSoFar()) < acked + 200) throw new Error('ingest has not resumed');
      }, 60_000, 'ingest did not resume', 100).catch(() => undefined);
      ingestBackMs = performance.now() - killedAt;
      old.start();
      await this.topology.postgres.waitHealthy(90_000);
    });
    const promoted = (await this.topology.postgres.primary()).name;
    const oldRole = (await this.topology.postgres.members()).find((m) => m.name === old.name)?.role ?? 'missing';
    report.notes.push(`${old.name} killed, ${promoted} promoted, ingest back ${(ingestBackMs / 1000).toFixed(1)} s after the kill; ${old.name} rejoined as ${oldRole}`);
    await this.waitBalanced();
    return { ...report, old: old.name, promoted, oldRole, ingestBackMs };
  }

  /** The stream leader among the nats-servers killed -9, and started again 2 s later. */
  async killNatsLeader(): Promise<FaultReport> {
    return this.underLoad('kill -9 of the NATS stream leader', async (report) => {
      const leader = await this.streamLeader();
      await leader.stop('SIGKILL');
      await pause(2000);
      await leader.start();
      report.notes.push(`stream leader ${leader.serverName} killed`);
    });
  }

  private async streamLeader(): Promise<NatsServerProcess> {
    const nats = this.topology.nats;
    const nc = await connect({ ...natsConnectOptions(nats[0]!.urlFor('command-api')), timeout: 2000 });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(PAYMENTS_STREAM);
      return nats.find((s) => s.serverName === info.cluster?.leader) ?? nats[0]!;
    } finally {
      await nc.close();
    }
  }

  /** The running round's producers and answers (underLoad sets them), for faults that wait on the load. */
  private current?: { report: { acknowledged: unknown[] } };
  private currentAnswers?: () => Answer[];

  private async acknowledgedSoFar(): Promise<number> {
    return this.current?.report.acknowledged.length ?? 0;
  }

  private async primaryAnswered(since: Date): Promise<boolean> {
    return this.currentAnswers?.().some((a) => a.receivedAt >= since && a.replicaLagSeconds === null) ?? false;
  }
}

/** Stale answers as spans ("3.1–7.9 lag 4.2": seconds after the fault, worst lag in s): answers less than 2 s apart share one. */
function staleSpans(stale: readonly Answer[], faultWall: number): string {
  const spans: { from: number; to: number; lag: number }[] = [];
  for (const a of [...stale].sort((x, y) => x.receivedAt.getTime() - y.receivedAt.getTime())) {
    const at = (a.receivedAt.getTime() - faultWall) / 1000;
    const last = spans.at(-1);
    if (last && at - last.to < 2) Object.assign(last, { to: at, lag: Math.max(last.lag, a.lagSeconds) });
    else spans.push({ from: at, to: at, lag: a.lagSeconds });
  }
  return spans.map((s) => `${s.from.toFixed(1)}–${s.to.toFixed(1)} lag ${s.lag.toFixed(1)}`).join(', ');
}
