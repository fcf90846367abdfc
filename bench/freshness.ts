/**
 * bench:freshness — how long after the command API accepts an event it is
 * visible in merchantMetrics, at a steady ingest rate.
 *
 * Starts the whole system as child processes (command API, projector, query
 * API on embedded PostgreSQL and nats-server), first measures the stack's
 * maximum ingest rate (8 producers × 1000-event requests as fast as the API
 * answers, the projector running), lets the projector catch up, then drives
 * steady background ingest at half that maximum (or at --rate), and every
 * 250 ms sends one probe event for a fresh merchant. The probe's
 * acceptance is the moment the API answered 200 (the event is durable); its
 * visibility is the first GraphQL answer that counts it, polled every 50 ms.
 * Baseline in the same run: the command API's own p50/p99 request latency.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { signMerchantToken } from '@app/access';
import { partitionOf } from '@app/event-store';
import pg from 'pg';
import { cpuBetween, cpuSnapshot, postgresRoles, type CpuSnapshot } from './support/cpu.js';
import { addNameValue } from './support/args.js';
import { BodySource, LoadGenerator, RECORD_PATH, percentile } from './support/load.js';
import { GraphqlHttpClient } from './query/graphql-client.js';
import { COMMAND_API_APP, PROJECTOR_APP, QUERY_API_APP, Resources, startApp, startBenchSystem, withClient } from './support/stack.js';

interface Settings { rate: number; share: number; merchants: number; secondVersion: number; maxSeconds: number; seconds: number; warmup: number; batch: number; probeEveryMs: number; statements: number; occurredWithinS: number; pg: Record<string, string>; cpuProf?: string }

const USAGE = 'usage: npm run bench:freshness -- [--rate EVENTS_PER_S (default: --share of the maximum measured first)] [--share F (0.5)] [--merchants N (10000; 1: one hot merchant)] [--second-version V (a second projector process building merchant-metrics vV from the store beside the live version, started with the window)] [--max-seconds S] [--seconds S] [--warmup S] [--batch N] [--probe-every-ms MS] [--statements N] [--occurred-within-s S] [--pg NAME=VALUE]... [--cpu-prof DIR]';

function parse(argv: string[]): Settings {
  // occurredAt of the background events: spread over the past day by default (the ingest workload's).
  // rate 0: half of the maximum measured in the same run (the issue's definition).
  const s: Settings = { rate: 0, share: 0.5, merchants: 10_000, secondVersion: 0, maxSeconds: 10, seconds: 30, warmup: 5, batch: 500, probeEveryMs: 250, statements: 0, occurredWithinS: 86_400, pg: {} };
  for (let i = 0; i < argv.length; i += 2) {
    const raw = argv[i + 1] ?? '';
    if (argv[i] === '--cpu-prof' && raw) {
      s.cpuProf = raw; // V8 profiles of the command API and the projector over the window
      continue;
    }
    if (argv[i] === '--pg') {
      addNameValue(s.pg, raw, '--pg takes NAME=VALUE (a PostgreSQL setting)', USAGE);
      continue;
    }
    const key = argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase()) as Exclude<keyof Settings, 'pg' | 'cpuProf'>;
    const value = Number(raw);
    if (!(key in s) || !Number.isFinite(value) || value <= 0) throw new Error(`${USAGE} (bad: ${argv[i]})`);
    s[key] = value;
  }
  return s;
}

const QUERY = `query($m: ID!, $from: DateTime!, $to: DateTime!) {
  merchantMetrics(merchantId: $m, from: $from, to: $to, granularity: DAY) { totals { transactionCount } }
}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The k-th probe's merchant, fresh each time. With one background merchant
 * (`--merchants 1`, a hot partition), a merchant of that merchant's
 * event-store partition, so the probe waits behind its events in the same
 * partition worker: its freshness is the hot merchant's.
 */
function probeMerchant(k: number, merchants: number): string {
  if (merchants !== 1) return `probe-${k}`;
  const hot = partitionOf('m-0', STORE_PARTITIONS);
  for (let j = 0; ; j++) if (partitionOf(`probe-${k}-${j}`, STORE_PARTITIONS) === hot) return `probe-${k}-${j}`;
}

/** EVENT_STORE_PARTITIONS of the bench's fresh install (the default). */
const STORE_PARTITIONS = 16;

/**
 * The command side's maximum ingest rate: stored events/s over --max-seconds after 2 s of warm-up,
 * with 8 producers each keeping one 1000-event request in flight (bench:ingest's defaults).
 */
async function measureMaximum(apiUrl: string, key: string, databaseUrl: string, settings: Settings): Promise<number> {
  const producers = 8;
  const batch = 1000;
  const bodies = BodySource.prebuild(Math.ceil((60_000 * (settings.maxSeconds + 3)) / batch), batch, settings.merchants, settings.occurredWithinS * 1000, 0xfa57);
  const load = new LoadGenerator(apiUrl, key, producers, bodies);
  const maximum = await withClient(databaseUrl, async (observer) => {
    const stored = async () => Number((await observer.query('select sum(head)::bigint as n from event_store.partition_heads')).rows[0].n);
    console.error(`[bench] measuring the maximum: ${producers} producers × ${batch} events, ${settings.maxSeconds} s after 2 s warm-up`);
    load.start();
    await sleep(2000);
    const [n0, t0] = [await stored(), performance.now()];
    await sleep(settings.maxSeconds * 1000);
    const [n1, t1] = [await stored(), performance.now()];
    await load.stop();
    return (n1 - n0) / ((t1 - t0) / 1000);
  });
  if (load.total.other > 0) throw new Error(`the maximum run had ${load.total.other} failed requests: ${load.errorSamples.join(' | ')}`);
  console.log(`maximum ingest: ${maximum.toFixed(0)} events/s stored (${producers} producers × ${batch} events, ${settings.maxSeconds} s; ` +
    `${bodies.generatedLate} requests generated late) → steady rate ${Math.round(maximum * settings.share).toLocaleString('en-US')} events/s`);
  return maximum;
}

/**
 * Waits until the live version has applied everything stored, so the window does not start behind a backlog;
 * returns the rate it applied that backlog at (from its first applied event: the projector's start is not counted).
 */
async function waitForProjector(databaseUrl: string): Promise<{ events: number; perSecond: number }> {
  return withClient(databaseUrl, async (observer) => {
    const backlog = async () => Number((await observer.query(
      // The fresh install's only version: live only once it has caught up, so its checkpoints are read directly.
      `select coalesce(sum(h.head - coalesce(c.position, 0)), 0)::bigint as n
       from event_store.partition_heads h
       left join projections.checkpoints c on c.partition = h.partition
        and (c.projection, c.version) = (select projection, max(version) from projections.checkpoints group by 1 limit 1)`)).rows[0].n);
    const deadline = Date.now() + 300_000;
    const initial = await backlog();
    let began: [number, number] | undefined;
    for (let left = initial; left > 0; left = await backlog()) {
      if (Date.now() > deadline) throw new Error(`the projector still had ${left} events to apply after 5 minutes`);
      if (began === undefined && left < initial) began = [left, performance.now()];
      await sleep(100);
    }
    const [from, at] = began ?? [initial, performance.now()];
    return { events: initial, perSecond: from / Math.max(0.001, (performance.now() - at) / 1000) };
  });
}

async function main(): Promise<void> {
  const settings = parse(process.argv.slice(2));
  const resources = new Resources();
  process.on('SIGINT', () => void resources.cleanup().then(() => process.exit(130)));
  try {
    // --statements N: pg_stat_statements over the window, its N costliest statements printed at the end.
    const pgSettings = settings.statements > 0 ? { shared_preload_libraries: 'pg_stat_statements', ...settings.pg } : settings.pg;
    const { postgres, url, nats, key, logs, env, secret } = await startBenchSystem(resources, 'bench-freshness', pgSettings);
    if (settings.cpuProf) mkdirSync(settings.cpuProf, { recursive: true });
    const profiled = settings.cpuProf ? { cpuProfDir: settings.cpuProf } : {};
    const api = await startApp(resources, logs, COMMAND_API_APP, env, profiled);
    // The maximum is the command side's alone (bench:ingest's figure): the projector starts after it.
    const maximum = settings.rate === 0 ? await measureMaximum(api.url, key, url, settings) : undefined;
    // Watched from before it starts: the backlog the maximum left is the projector's own throughput test.
    const catchingUp = maximum !== undefined ? waitForProjector(url) : undefined;
    // Awaited below; if starting the apps fails first, its failure is the one to report.
    catchingUp?.catch(() => undefined);
    const projector = await startApp(resources, logs, PROJECTOR_APP, env, profiled);
    if (maximum !== undefined) {
      const caughtUp = await catchingUp!;
      console.log(`projector: applied the ${caughtUp.events.toLocaleString('en-US')}-event backlog at ${Math.round(caughtUp.perSecond).toLocaleString('en-US')} events/s ` +
        `(${(caughtUp.perSecond / maximum).toFixed(2)} × the maximum ingest; nothing else running)`);
      settings.rate = Math.round(maximum * settings.share);
    }
    // Ready once a version is live: the first one goes live when it has caught up.
    const query = await startApp(resources, logs, QUERY_API_APP, env);
    const opsToken = await signMerchantToken(secret, { kind: 'ops' }, { ttlSeconds: 3600 });
    if (settings.secondVersion > 0) {
      // A second version catching up beside the live one (as after `projections rebuild`): its own process, from position 0.
      await startApp(resources, logs, { ...PROJECTOR_APP, name: `projector-v${settings.secondVersion}` }, { ...env, PROJECTOR_VERSIONS: `merchant-metrics=${settings.secondVersion}` });
      console.log(`second version: a projector building merchant-metrics v${settings.secondVersion} from the store runs beside the live one`);
    }
    console.log(`bench:freshness — ${settings.rate.toLocaleString('en-US')} events/s in requests of ${settings.batch} (occurredAt within ${settings.occurredWithinS} s), one probe every ${settings.probeEveryMs} ms, ${settings.seconds} s after ${settings.warmup} s warm-up`);

    const intervalMs = (1000 * settings.batch) / settings.rate;
    const bodies = BodySource.prebuild(Math.ceil((settings.rate * (settings.seconds + settings.warmup + 5)) / settings.batch), settings.batch, settings.merchants,
      settings.occurredWithinS * 1000);
    // Keep-alive node:http connections: cheaper for the load generator than fetch, so more of the
    // machine goes to the system under test.
    const commands = new GraphqlHttpClient(api.url, 64, RECORD_PATH);
    const graphql = new GraphqlHttpClient(query.url, 64);
    resources.onCleanup('http clients', async () => { commands.close(); graphql.close(); });
    const post = (body: Buffer | string) => commands.post(body, key);

    const start = Date.now();
    const windowStart = start + settings.warmup * 1000;
    const end = windowStart + settings.seconds * 1000;
    // CPU over the timed window: each app (its own process), PostgreSQL by role, nats-server, this process.
    const watch = { postmasterPid: postgres.postmasterPid(), natsPid: nats.pid, apiPid: api.pid };
    const observer = new pg.Client({ connectionString: url, application_name: 'bench-observer' });
    await observer.connect();
    resources.onCleanup('observer', () => observer.end());
    let profiles: string[] = [];
    let cpuStart: CpuSnapshot | undefined;
    let cpuEnd: CpuSnapshot | undefined;
    let storedAt: [number, number] = [0, 0];
    const stored = async () => Number((await observer.query('select sum(head)::bigint as n from event_store.partition_heads')).rows[0].n);
    const cpuWindow = (async () => {
      await sleep(windowStart - Date.now());
      if (settings.statements > 0) {
        await observer.query('create extension if not exists pg_stat_statements');
        await observer.query('select pg_stat_statements_reset()');
      }
      cpuStart = cpuSnapshot(watch);
      if (settings.cpuProf) for (const app of [api, projector]) app.startProfile();
      storedAt = [await stored(), 0];
      await sleep(end - Date.now());
      cpuEnd = cpuSnapshot(watch);
      if (settings.cpuProf) profiles = await Promise.all([api, projector].map((app) => app.stopProfile()));
      storedAt[1] = await stored();
    })();
    let sent = 0;
    const requestMs: number[] = [];
    // Steady ingest: requests on a fixed schedule, whatever the answers' latency.
    const ingest = (async () => {
      const inFlight = new Set<Promise<void>>();
      for (let n = 0; Date.now() < end; n++) {
        const due = start + n * intervalMs;
        if (due > Date.now()) await sleep(due - Date.now());
        const t0 = performance.now();
        const p = post(bodies.take()).then((res) => {
          if (res.status === 200) sent += settings.batch;
          if (Date.now() >= windowStart) requestMs.push(performance.now() - t0);
        }).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await Promise.all(inFlight);
    })();

    const visibleMs: number[] = [];
    /** (accepted, ms to visible) of each counted probe: whether freshness holds or drifts over the window. */
    const visibleAt: Array<[number, number]> = [];
    const probes: Array<Promise<void>> = [];
    let lost = 0;
    // Accepted probes not seen yet, in acceptance order. One poller asks for them every 50 ms (polling
    // faster would load the query API and skew what it measures). With one hot merchant every probe is
    // in the same partition, applied in order: while the oldest is not visible none after it is, so it
    // alone is asked (a poll per waiting probe put 0.4 cores of queries on the machine once the
    // projector fell behind, slowing it further).
    const waiting: Array<{ merchantId: string; from: string; to: string; accepted: number; counted: boolean }> = [];
    const inOrder = settings.merchants === 1;
    let probing = true;
    const poller = (async () => {
      while (probing || waiting.length > 0) {
        for (let i = 0; i < waiting.length;) {
          const w = waiting[i];
          const q = await graphql.post(JSON.stringify({ query: QUERY, variables: { m: w.merchantId, from: w.from, to: w.to } }), opsToken);
          const body = JSON.parse(q.body.toString('utf8')) as { data?: { merchantMetrics: { totals: Array<{ transactionCount: number }> } } };
          if (body.data?.merchantMetrics.totals[0]?.transactionCount === 1) {
            if (w.counted) {
              visibleMs.push(performance.now() - w.accepted);
              visibleAt.push([w.accepted, performance.now() - w.accepted]);
            }
            waiting.splice(i, 1);
          } else if (performance.now() - w.accepted > 30_000) {
            lost++;
            waiting.splice(i, 1);
          } else if (inOrder) {
            break;
          } else {
            i++;
          }
        }
        await sleep(50);
      }
    })();
    for (let k = 0; Date.now() < end; k++) {
      const merchantId = probeMerchant(k, settings.merchants);
      const now = new Date();
      const event = {
        eventId: randomUUID(), merchantId, occurredAt: now.toISOString(),
        paymentCompleted: { paymentId: `probe-${k}`, customerId: 'c-probe', storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits: '100' } },
      };
      const counted = Date.now() >= windowStart;
      probes.push((async () => {
        const res = await post(JSON.stringify({ events: [event] }));
        const accepted = performance.now();
        if (res.status !== 200) return;
        const from = new Date(now.getTime() - 86_400_000).toISOString();
        const to = new Date(now.getTime() + 86_400_000).toISOString();
        // Probes go out 250 ms apart and are answered in about 100 ms: acceptance order is storage order.
        waiting.push({ merchantId, from, to, accepted, counted });
      })());
      await sleep(settings.probeEveryMs);
    }
    const ingestEnded = (async () => { await ingest; return Date.now(); })();
    const ingestEnd = await ingestEnded;
    await Promise.all(probes);
    probing = false;
    await poller;
    await cpuWindow;

    visibleMs.sort((a, b) => a - b);
    requestMs.sort((a, b) => a - b);
    const rate = sent / ((ingestEnd - start) / 1000);
    console.log(`\ningest: ${rate.toFixed(0)} events/s sustained; command API request p50 ${percentile(requestMs, 0.5).toFixed(0)} ms, p99 ${percentile(requestMs, 0.99).toFixed(0)} ms`);
    console.log(`freshness (accepted → visible in merchantMetrics), ${visibleMs.length} probes: p50 ${percentile(visibleMs, 0.5).toFixed(0)} ms, p99 ${percentile(visibleMs, 0.99).toFixed(0)} ms, max ${visibleMs.at(-1)?.toFixed(0)} ms, not visible within 30 s: ${lost}`);
    const thirds = [0, 1, 2].map((k) => {
      const part = visibleAt.slice(Math.floor((k * visibleAt.length) / 3), Math.floor(((k + 1) * visibleAt.length) / 3)).map(([, ms]) => ms).sort((a, b) => a - b);
      return part.length > 0 ? percentile(part, 0.5).toFixed(0) : '-';
    });
    console.log(`freshness p50 by third of the window (a drift means the projector falls behind): ${thirds.join(' → ')} ms`);
    console.log(`target: p99 < 2000 ms → ${percentile(visibleMs, 0.99) < 2000 ? 'met' : 'NOT met'}`);
    const cpu = cpuBetween(cpuStart!, cpuEnd!, await postgresRoles(observer));
    const appCores = (pid: number) => (cpuEnd!.all.get(pid)?.self ?? 0) - (cpuStart!.all.get(pid)?.self ?? 0);
    const perEvent = (cores: number) => `${((cores * 1e6) / ((storedAt[1] - storedAt[0]) / cpu.seconds)).toFixed(1)} µs/event`;
    const c = cpu.cores;
    const projectorCores = appCores(projector.pid) / cpu.seconds;
    const queryCores = appCores(query.pid) / cpu.seconds;
    console.log(`CPU over the window (cores of 2; µs per stored event, ${((storedAt[1] - storedAt[0]) / cpu.seconds).toFixed(0)} events/s stored):`);
    console.log(`  command API ${c.api.toFixed(2)} (${perEvent(c.api)}), projector ${projectorCores.toFixed(2)} (${perEvent(projectorCores)}), ` +
      `query API ${queryCores.toFixed(2)}, nats-server ${c.nats.toFixed(2)}, load generator ${c.bench.toFixed(2)}, idle ${c.machineIdle.toFixed(2)}`);
    console.log(`  PostgreSQL ${c.postgres.toFixed(2)} (${perEvent(c.postgres)}): ${Object.entries(cpu.postgresByRole).sort((a, b) => b[1] - a[1])
      .map(([role, cores]) => `${role} ${cores.toFixed(2)}`).join(', ')}`);
    if (settings.statements > 0) {
      const { rows } = await observer.query<{ ms: number; calls: string; query: string }>(
        `select total_exec_time + total_plan_time as ms, calls::text, regexp_replace(query, '[[:space:]]+', ' ', 'g') as query
         from pg_stat_statements order by 1 desc limit $1`, [settings.statements]);
      console.log(`costliest statements over the window (execution + planning, ms per second of window):`);
      for (const r of rows) console.log(`  ${(r.ms / cpu.seconds).toFixed(1).padStart(7)}  ${r.calls.padStart(8)} calls  ${r.query.slice(0, 110)}`);
    }
    if (profiles.length > 0) {
      console.log(`CPU profiles over the window (summarise with node scripts/run-ts.mjs bench/support/cpu-profile-summary.ts FILE):`);
      for (const file of profiles) console.log(`  ${file}`);
    }
  } finally {
    await resources.cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
