import { randomBytes } from 'node:crypto';
/**
 * bench:query — merchants' GraphQL questions against a large read model.
 *
 * Builds a data set (default 10,000 merchants, 20 million events over 13
 * months) straight into read-model v1 with the real projection logic, starts
 * the query API as a child process, and runs concurrent clients, each with its
 * own merchant's token, asking a mix of 24-hour hourly, 90-day daily and
 * 13-month monthly series, with and without groupBy, in several time zones.
 * Baseline in the same run: the query API's own read path (the same service,
 * pool settings and prepared statements) called in this process, without HTTP,
 * GraphQL or auth, at the same concurrency; the ratio is the API's overhead.
 * Each phase reports where the machine's CPU went: the query API process,
 * PostgreSQL, and this process (the load generator, or the reader itself).
 *
 * Then the answer cache off and on (`--cache off,on`), each on a fresh query
 * API with the same load from the same seeds: open dashboards refreshing
 * their page every `--poll-seconds` (its two requests, built by the page's
 * own code), a few ad-hoc clients asking the mix above, and new events
 * applied to the live version throughout (the projector's applyEvents), so
 * that merchants' watermarks move and some repeated questions miss; with the
 * page load of the largest merchant (a year of data) on the cache-on API.
 * Merchants' sizes follow a Zipf law (`--population zipf`); dashboards, ad-hoc
 * questions and ingest draw merchants with the same skew.
 */
import { mkdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { signMerchantToken } from '@app/access';
import { createKysely, createPool, migrateToLatest, PreparedStatementClient } from '@app/database';
import { PROJECTION_NAME, merchantMetricsProjection } from '@app/merchant-metrics';
import { goLiveIfFirst, installVersion, readLive, schemaNameFor, setStatus } from '@app/projections';
import type pg from 'pg';
import { addNameValue } from './support/args.js';
import { cpuBetween, cpuSnapshot, type CpuSnapshot, type CpuUsage } from './support/cpu.js';
import { summarizeCpuProfile } from './support/cpu-profile-summary.js';
import { percentile } from './support/load.js';
import { QUERY_API_APP, Resources, startApp, startPostgres, withClient, type PostgresHandle } from './support/stack.js';
import { BackendStates } from './query/backend-states.js';
import { checkAnswer, GraphqlHttpClient } from './query/graphql-client.js';
import { RawHttpClient } from './query/raw-http-client.js';
import { parseCacheModes, runCachePhases, type CacheMode } from './query/cache-phases.js';
import { hitRate, lookupsBetween, readCacheLookups } from './query/admin-metrics.js';
import {
  loadMetricsDataset, merchantEventCounts, merchantId, merchantShapes, removeRowsAfter, STORE_PARTITIONS, writeMerchantWatermarks,
  type DatasetOptions, type Population,
} from './query/metrics-dataset.js';
import { MerchantSkew } from './query/merchant-skew.js';
import { partitionOf } from '@app/event-store';
import { QUERY_API_ACTIVITIES } from './query/profile-activities.js';
import { METRICS_QUERY, SHAPES, variablesFor, ZONES, type QueryVariables } from './query/query-mix.js';
import { seededRandom } from '../libs/merchant-metrics/src/testing/generated-events.js';
import { createQueryPool } from '../apps/query-api/src/infrastructure/query-pool.js';
import { readerLimits, SqlMerchantMetricsService } from '../apps/query-api/src/merchants/queries/merchant-metrics/sql-merchant-metrics.service.js';

interface Settings {
  merchants: number;
  events: number;
  seconds: number;
  concurrency: number;
  warmup: number;
  /** DATABASE_POOL_SIZE of the query API (and of the baseline's pool). */
  pool: number;
  phases: Array<'reader' | 'api' | 'cache'>;
  population: Population;
  /** The cache phases, in this order. */
  cache: CacheMode[];
  /** Open dashboards, each refreshing every pollSeconds. */
  dashboards: number;
  pollSeconds: number;
  /** Ad-hoc questions per second beside the dashboards in the cache phases. */
  adhocRate: number;
  /** Events per second the ingest writer applies during the cache phases. */
  ingestRate: number;
  /** Timed window of each cache phase (after one poll period and the warm-up). */
  cacheSeconds: number;
  /** Keep the PostgreSQL data directory here and reuse a data set already loaded with the same settings. */
  reuse?: string;
  /** PostgreSQL settings for the bench's server (`--pg shared_buffers=4GB`). */
  pgSettings: Record<string, string>;
  /** Write a V8 CPU profile of the query API over the timed window here. */
  cpuProf?: string;
  /** NODE_OPTIONS of the query API process. */
  apiNodeOptions?: string;
  /** More environment of the query API (--api-env KEY=VALUE, repeatable). */
  apiEnv: Record<string, string>;
  /** How the load generator sends requests. */
  generator: 'raw' | 'http' | 'fetch';
  /** Scheduling priority (nice value) of the query API process; negative needs root. */
  apiNice?: number;
}

const USAGE = `usage: npm run bench:query -- [--merchants N] [--events N] [--population zipf|tiers] [--seconds S] [--concurrency C] [--warmup S]
       [--pool N] [--phases reader,api,cache] [--generator raw|http|fetch] [--reuse DIR] [--cpu-prof DIR]
       [--cache off,on[,on:MB]] [--dashboards N] [--poll-seconds S] [--adhoc-rate Q_PER_S] [--ingest-rate EVENTS_PER_S] [--cache-seconds S]
       [--api-node-options "..."] [--api-env KEY=VALUE]... [--api-nice N] [--pg NAME=VALUE]...`;

function parse(argv: string[]): Settings {
  // Pool 3: on these 2 cores, shared with the API and the load generator, more connections only add
  // database backends competing for the CPU (p99 62 ms with 16, 44 ms with 3, same throughput).
  const s: Settings = {
    merchants: 10_000, events: 20_000_000, seconds: 20, concurrency: 16, warmup: 3, pool: 3, phases: ['reader', 'api', 'cache'], apiEnv: {}, pgSettings: {},
    generator: 'raw', population: 'zipf', cache: ['off', 'on'], dashboards: DEFAULT_DASHBOARDS, pollSeconds: 10, adhocRate: 25, ingestRate: 2000, cacheSeconds: 60,
  };
  const numbers = new Set(['merchants', 'events', 'seconds', 'concurrency', 'warmup', 'pool', 'dashboards', 'poll-seconds', 'adhoc-rate', 'ingest-rate', 'cache-seconds']);
  const camel = (key: string) => key.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  const integers: Record<string, keyof Settings> = { 'api-nice': 'apiNice' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    const raw = argv[i + 1];
    if (raw === undefined) throw new Error(`${argv[i]} needs a value\n${USAGE}`);
    if (numbers.has(key)) {
      const value = Number(raw);
      if (!Number.isFinite(value) || value <= 0) throw new Error(`${argv[i]} must be a positive number, got "${raw}"\n${USAGE}`);
      (s as unknown as Record<string, number>)[camel(key)] = value;
    } else if (key in integers) {
      const value = Number(raw);
      if (!Number.isInteger(value) || value < -20 || value > 19) throw new Error(`${argv[i]} must be an integer from -20 to 19\n${USAGE}`);
      (s as unknown as Record<string, number>)[integers[key]] = value;
    } else if (key === 'phases') {
      const phases = raw.split(',');
      if (phases.length === 0 || phases.some((p) => p !== 'reader' && p !== 'api' && p !== 'cache')) throw new Error(`--phases takes reader,api,cache\n${USAGE}`);
      s.phases = phases as Settings['phases'];
    } else if (key === 'cache') {
      const modes = parseCacheModes(raw);
      if (!modes) throw new Error(`--cache takes off, on and on:MB (QUERY_CACHE_MB), each once, in the order to run\n${USAGE}`);
      s.cache = modes;
    } else if (key === 'population') {
      if (raw !== 'zipf' && raw !== 'tiers') throw new Error(`--population takes zipf or tiers\n${USAGE}`);
      s.population = raw;
    } else if (key === 'generator') {
      if (raw !== 'raw' && raw !== 'http' && raw !== 'fetch') throw new Error(`--generator takes raw, http or fetch\n${USAGE}`);
      s.generator = raw;
    } else if (key === 'pg') addNameValue(s.pgSettings, raw, '--pg takes NAME=VALUE (a PostgreSQL setting)', USAGE); else if (key === 'reuse') s.reuse = raw;
    else if (key === 'cpu-prof') s.cpuProf = raw;
    else if (key === 'api-node-options') s.apiNodeOptions = raw;
    else if (key === 'api-env') addNameValue(s.apiEnv, raw, '--api-env takes KEY=VALUE', USAGE);
    else throw new Error(`unknown option ${argv[i]}\n${USAGE}`);
  }
  return s;
}

const END = new Date('2026-11-21T00:00:00Z');
const START = new Date('2025-10-21T00:00:00Z');
/**
 * "Now" for the dashboards and the ingest writer: the morning after the data
 * set's last day in every zone of the mix, so the last 30 days hold 29 loaded
 * days and today's live events, which all fall after END (removeRowsAfter).
 */
const NOW = new Date('2026-11-21T10:00:00Z');
/**
 * Most requests from dashboards: 500 open pages (one merchant in 20)
 * refreshing every 10 s send 100 requests/s (200 answers), beside 25 ad-hoc
 * questions/s; with the cache off that takes about half of these 2 cores.
 */
const DEFAULT_DASHBOARDS = 500;
/** A fresh signing secret per run: the apps run with NODE_ENV=production, which refuses any secret published in the repository. */
const SECRET = randomBytes(32).toString('base64url');
const SEED = 7;

interface Sample { shape: string; ms: number }

interface Window { start(): void; end(): void }

/** Runs `ask` from `concurrency` loops for `seconds`, after `warmup` seconds not counted. */
async function drive(
  concurrency: number, warmup: number, seconds: number, ask: (n: number) => Promise<string>, window?: Window,
): Promise<{ samples: Sample[]; seconds: number; errors: number }> {
  const samples: Sample[] = [];
  let errors = 0;
  let counting = false;
  let n = 0;
  const stopAt = Date.now() + (warmup + seconds) * 1000;
  setTimeout(() => { counting = true; window?.start(); }, warmup * 1000);
  const started = Date.now() + warmup * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < stopAt) {
      const t0 = performance.now();
      try {
        const shape = await ask(n++);
        if (counting) samples.push({ shape, ms: performance.now() - t0 });
      } catch (error) {
        if (counting) errors++;
        if (errors <= 3) console.error(`  query failed: ${(error as Error).message.slice(0, 300)}`);
      }
    }
  }));
  window?.end();
  return { samples, seconds: (Date.now() - started) / 1000, errors };
}

function report(title: string, run: { samples: Sample[]; seconds: number; errors: number }): { qps: number; p50: number; p99: number } {
  const all = run.samples.map((s) => s.ms).sort((a, b) => a - b);
  const qps = all.length / run.seconds;
  console.log(`\n${title}: ${all.length} queries in ${run.seconds.toFixed(1)} s = ${qps.toFixed(0)} queries/s, errors ${run.errors}`);
  console.log(`  all            p50 ${percentile(all, 0.5).toFixed(1)} ms   p99 ${percentile(all, 0.99).toFixed(1)} ms`);
  for (const shape of SHAPES) {
    const ms = run.samples.filter((s) => s.shape === shape.name).map((s) => s.ms).sort((a, b) => a - b);
    console.log(`  ${shape.name.padEnd(22)} p50 ${percentile(ms, 0.5).toFixed(1).padStart(6)} ms   p99 ${percentile(ms, 0.99).toFixed(1).padStart(6)} ms   (${ms.length})`);
  }
  return { qps, p50: percentile(all, 0.5), p99: percentile(all, 0.99) };
}

/** CPU of each party over the timed window, as cores and as CPU milliseconds per query. */
function reportCpu(cpu: CpuUsage, qps: number, benchRole: string): void {
  const c = cpu.cores;
  const perQuery = (cores: number) => `${((cores * 1000) / qps).toFixed(2)} ms/query`;
  console.log(`  CPU (cores of 2): query API ${c.api.toFixed(2)} (${perQuery(c.api)}), PostgreSQL ${c.postgres.toFixed(2)} (${perQuery(c.postgres)}), ` +
    `bench process ${c.bench.toFixed(2)} (${benchRole}, ${perQuery(c.bench)}), other ${c.other.toFixed(2)}, idle ${c.machineIdle.toFixed(2)}` +
    ` (iowait ${c.iowait.toFixed(2)}), steal ${c.steal.toFixed(2)}, softirq ${c.softirq.toFixed(2)}`);
  if (cpu.others.length > 0) console.log(`  other busy processes: ${cpu.others.map(([name, cores]) => `${name} ${cores.toFixed(2)}`).join(', ')}`);
}

/** Loads the data set unless `--reuse` points at a cluster that already holds this exact one. */
async function prepareDatabase(postgres: PostgresHandle, settings: Settings): Promise<{ url: string; schemaName: string }> {
  const url = postgres.url('bench');
  // A data set of the tiers loaded before populations existed has no population in its record, and is the same data set.
  const wanted = {
    merchants: settings.merchants, events: settings.events, seed: SEED, from: START.toISOString(), to: END.toISOString(),
    ...(settings.population === 'tiers' ? {} : { population: settings.population }),
  };
  if (settings.reuse) {
    const existing = await withClient(postgres.adminUrl, async (c) => (await c.query(`select 1 from pg_database where datname = 'bench'`)).rowCount);
    if (existing) {
      const loaded = await withClient(url, async (c) => {
        const { rows } = await c.query<{ settings: string }>(`select settings::text as settings from public.bench_dataset`).catch(() => ({ rows: [] as Array<{ settings: string }> }));
        const live = await readLive(c, PROJECTION_NAME).catch(() => undefined);
        return rows.length === 1 && canonical(JSON.parse(rows[0].settings)) === canonical(wanted) && live !== undefined ? live : undefined;
      });
      if (loaded) {
        console.log(`reusing the data set in ${postgres.dataDir}`);
        // Migrations added since it was loaded.
        const db = createKysely(createPool({ connectionString: url, max: 1 }));
        await migrateToLatest(db);
        await db.destroy();
        // Loaded before the loader wrote watermarks (their table came with a migration): give them now.
        const watermarks = await withClient(url, async (c) => (await c.query(`select 1 from ${loaded.schemaName}.merchant_watermarks limit 1`)).rowCount);
        if (!watermarks) await writeMerchantWatermarks(url, loaded.schemaName, loaded.version, datasetOptions(settings));
        const removed = await removeRowsAfter(url, loaded.schemaName, END);
        if (removed > 0) console.log(`  removed ${removed.toLocaleString('en-US')} rows an earlier run's ingest had added after ${END.toISOString()}`);
        return { url, schemaName: loaded.schemaName };
      }
      await withClient(postgres.adminUrl, (c) => c.query('drop database bench'));
    }
  }
  await withClient(postgres.adminUrl, (c) => c.query('create database bench'));
  const pool = createPool({ connectionString: url, max: 2 });
  try {
    await migrateToLatest(createKysely(createPool({ connectionString: url, max: 1 })));
    const client = await pool.connect();
    const version = await installVersion(client, merchantMetricsProjection, { version: 1, partitions: 16, codeRevision: 'bench', engine: 'postgres' });
    client.release();
    console.log('loading the read model…');
    const stats = await loadMetricsDataset(url, version.schemaName, datasetOptions(settings), console.log);
    await pool.query('vacuum analyze');
    await setStatus(pool, PROJECTION_NAME, 1, 'catching_up');
    await goLiveIfFirst(pool, PROJECTION_NAME, 1);
    console.log(`loaded ${stats.events.toLocaleString('en-US')} events in ${stats.seconds.toFixed(0)} s: ${Object.entries(stats.rows).map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`).join(', ')}`);
    await pool.query(`create table public.bench_dataset (settings text not null)`);
    await pool.query(`insert into public.bench_dataset values ($1)`, [JSON.stringify(wanted)]);
    return { url, schemaName: schemaNameFor(PROJECTION_NAME, 1) };
  } finally {
    await pool.end();
  }
}

function datasetOptions(settings: Settings): DatasetOptions {
  return { merchants: settings.merchants, events: settings.events, from: START, to: END, seed: SEED, population: settings.population };
}

async function main(): Promise<void> {
  const settings = parse(process.argv.slice(2));
  const resources = new Resources();
  process.on('SIGINT', () => void resources.cleanup().then(() => process.exit(130)));
  try {
    console.log(`bench:query — ${settings.merchants} merchants (${settings.population}), ${settings.events.toLocaleString('en-US')} events, ${START.toISOString().slice(0, 10)} to ${END.toISOString().slice(0, 10)}, ` +
      `concurrency ${settings.concurrency}, ${settings.seconds} s after ${settings.warmup} s warm-up`);
    const postgres = await startPostgres(resources, { reuseDir: settings.reuse, settings: settings.pgSettings });
    const { url, schemaName } = await prepareDatabase(postgres, settings);
    console.log(`query API: DATABASE_POOL_SIZE ${settings.pool}${Object.keys(settings.apiEnv).length ? `, ${Object.entries(settings.apiEnv).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}`);

    const random = seededRandom(99);
    const pick = (n: number) => {
      const shape = SHAPES[n % SHAPES.length];
      const m = Math.floor(random() * settings.merchants);
      return { shape, variables: variablesFor(shape, merchantId(m), END, ZONES[Math.floor(random() * ZONES.length)]) };
    };
    const watch = { postmasterPid: postgres.postmasterPid(), natsPid: 0 };
    let readerQps: number | undefined;

    if (settings.phases.includes('reader')) {
      // Baseline: what the API's resolver calls, in this process, without HTTP/GraphQL/auth.
      const pool: pg.Pool = createQueryPool({ databaseUrl: url, databasePoolSize: settings.pool }, 'bench-reader');
      resources.onCleanup('pool', () => pool.end());
      const service = new SqlMerchantMetricsService(pool, readerLimits({ maxBuckets: 1000, maxRangeDays: 400 }), new PreparedStatementClient(pool));
      let before: CpuSnapshot | undefined;
      let cpu: CpuUsage | undefined;
      const states = await BackendStates.connect(url, 'bench-reader');
      const baseline = await drive(settings.concurrency, settings.warmup, settings.seconds, async (n) => {
        const { shape, variables } = pick(n);
        await service.query(toQuery(variables));
        return shape.name;
      }, {
        start: () => { before = cpuSnapshot(watch); states.begin(); },
        end: () => { cpu = cpuBetween(before!, cpuSnapshot(watch), new Map()); states.end(); },
      });
      readerQps = report('baseline: the API\'s read path called directly (no HTTP, GraphQL or auth)', baseline).qps;
      reportCpu(cpu!, readerQps, 'the reader');
      console.log(`  PostgreSQL backends (average): ${states.summary()}`);
      await states.close();
    }

    const tokens = new Map<string, string>();
    if (settings.phases.includes('api') || settings.phases.includes('cache')) {
      for (let m = 0; m < settings.merchants; m++) {
        tokens.set(merchantId(m), await signMerchantToken(SECRET, { kind: 'merchant', merchantId: merchantId(m) }, { ttlSeconds: 3600 }));
      }
    }

    if (settings.phases.includes('api')) {
      const logDir = resources.tempDir('bench-query-');
      if (settings.cpuProf) mkdirSync(settings.cpuProf, { recursive: true });
      const api = await startApp(resources, logDir, QUERY_API_APP, {
        DATABASE_URL: url, MERCHANT_JWT_SECRET: SECRET, DATABASE_POOL_SIZE: String(settings.pool), NODE_ENV: 'production',
        ...(settings.apiNodeOptions ? { NODE_OPTIONS: settings.apiNodeOptions } : {}),
        ...settings.apiEnv,
      }, settings.cpuProf ? { cpuProfDir: settings.cpuProf } : {});
      const apiWatch = { ...watch, apiPid: api.pid };
      if (settings.apiNice !== undefined) setPriority(api.pid, settings.apiNice);
      const client = settings.generator === 'raw' ? new RawHttpClient(api.url, settings.concurrency) : new GraphqlHttpClient(api.url, settings.concurrency);
      const checked = new Set<string>();
      const ask = async (n: number) => {
        const { shape, variables } = pick(n);
        const token = tokens.get(variables.merchantId)!;
        const body = JSON.stringify({ query: METRICS_QUERY, variables });
        if (settings.generator === 'fetch') {
          const res = await fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
          const answer = (await res.json()) as { errors?: Array<{ message: string }> };
          if (res.status !== 200 || answer.errors) throw new Error(`HTTP ${res.status}: ${JSON.stringify(answer.errors ?? answer)}`);
          return shape.name;
        }
        const answer = await client.post(body, token);
        checkAnswer(answer);
        if (!checked.has(shape.name)) {
          // Once per shape, look at the whole answer.
          const data = JSON.parse(answer.body.toString('utf8')) as { data?: { merchantMetrics?: { series?: unknown[] } } };
          if (!Array.isArray(data.data?.merchantMetrics?.series)) throw new Error(`unexpected answer: ${answer.body.toString('utf8', 0, 300)}`);
          checked.add(shape.name);
        }
        return shape.name;
      };
      let before: CpuSnapshot | undefined;
      let cpu: CpuUsage | undefined;
      const lookups = { start: Promise.resolve({ hits: 0, misses: 0, bypasses: 0 }), end: Promise.resolve({ hits: 0, misses: 0, bypasses: 0 }) };
      const states = await BackendStates.connect(url, 'query-api');
      const result = await drive(settings.concurrency, settings.warmup, settings.seconds, ask, {
        start: () => { before = cpuSnapshot(apiWatch); lookups.start = readCacheLookups(api.adminUrl); states.begin(); if (settings.cpuProf) api.startProfile(); },
        end: () => { cpu = cpuBetween(before!, cpuSnapshot(apiWatch), new Map()); lookups.end = readCacheLookups(api.adminUrl); states.end(); },
      });
      client.close();
      const apiQps = report(`query API (GraphQL over HTTP, merchant tokens, load generator: ${settings.generator})`, result).qps;
      reportCpu(cpu!, apiQps, 'load generator');
      console.log(`  PostgreSQL backends (average): ${states.summary()}`);
      console.log(`  answer cache (QUERY_CACHE_MB ${settings.apiEnv.QUERY_CACHE_MB ?? 'default'}; no ingest, so only repeats of the same question hit): ` +
        hitRate(lookupsBetween(await lookups.start, await lookups.end)));
      await states.close();
      if (readerQps !== undefined) console.log(`\nAPI / reader throughput ratio: ${(apiQps / readerQps).toFixed(2)}`);
      console.log(`targets: p99 < 50 ms and >= 2,000 queries/s`);
      if (settings.cpuProf) {
        const file = await api.stopProfile();
        const summary = summarizeCpuProfile(file, 25, QUERY_API_ACTIVITIES, 'other');
        const { totalMs, activities } = summary;
        const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
        console.log(`\nquery API CPU profile (${file}, ${totalMs.toFixed(0)} ms sampled)\n-- by activity --`);
        for (const [k, v] of activities) console.log(`${pct(v)}  ${k}`);
        console.log('-- by area (self) --');
        for (const [k, v] of summary.areas) console.log(`${pct(v)}  ${k}`);
        console.log('-- top functions (self) --');
        for (const [k, v] of summary.self) console.log(`${pct(v)}  ${k}`);
      }
      await api.stop();
    }

    if (settings.phases.includes('cache')) {
      const counts = merchantEventCounts(datasetOptions(settings));
      await runCachePhases({
        resources, url, schemaName, secret: SECRET, postmasterPid: postgres.postmasterPid(), merchantId,
        skew: new MerchantSkew(counts), shapes: merchantShapes(datasetOptions(settings), counts),
        partitions: counts.map((_, i) => partitionOf(merchantId(i), STORE_PARTITIONS)), tokens, now: NOW, end: END,
      }, {
        modes: settings.cache, dashboards: settings.dashboards, pollSeconds: settings.pollSeconds, adhocRate: settings.adhocRate,
        ingestRate: settings.ingestRate, seconds: settings.cacheSeconds, warmup: settings.warmup, apiEnv: settings.apiEnv,
      }, settings.pool);
    }
  } finally {
    await resources.cleanup();
  }
}

const canonical = (o: object) => JSON.stringify(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

function toQuery(v: QueryVariables) {
  return {
    merchantId: v.merchantId, from: new Date(v.from), to: new Date(v.to), granularity: v.granularity, timeZone: v.timeZone,
    groupBy: v.groupBy as Array<'PAYMENT_METHOD' | 'STORE'>,
  };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
