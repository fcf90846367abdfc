import { signMerchantToken } from '@app/access';
import { PROJECTION_NAME, merchantMetricsV1 } from '@app/merchant-metrics';
import pg from 'pg';
import { cpuBetween, cpuSnapshot, postgresRoles, type CpuSnapshot, type CpuUsage } from '../support/cpu.js';
import { percentile } from '../support/load.js';
import { QUERY_API_APP, startApp, withClient, type ApiHandle, type Resources } from '../support/stack.js';
import { seededRandom } from '../../libs/merchant-metrics/src/testing/generated-events.js';
import { gcBetween, hitRate, lookupsBetween, readCacheHeld, readCacheLookups, readGc, type CacheHeld, type CacheLookups, type GcTimes } from './admin-metrics.js';
import { BackendStates } from './backend-states.js';
import { dashboardRequests, openDashboards, zoneOf, type Dashboard, type Preset } from './dashboards.js';
import { checkAnswer } from './graphql-client.js';
import { IngestWriter, type IngestCount } from './ingest-writer.js';
import { DATASET_TABLES, removeRowsAfter, type MerchantShape } from './metrics-dataset.js';
import type { MerchantSkew } from './merchant-skew.js';
import { METRICS_QUERY, SHAPES, variablesFor, ZONES } from './query-mix.js';
import { RawHttpClient } from './raw-http-client.js';

/** `off` (QUERY_CACHE_MB=0), `on` (the API's default, or what --api-env sets) or `on:MB` (QUERY_CACHE_MB=MB). */
export type CacheMode = 'off' | 'on' | `on:${number}`;

export function parseCacheModes(text: string): CacheMode[] | undefined {
  const modes = text.split(',');
  if (modes.some((m) => m !== 'off' && m !== 'on' && !/^on:[1-9]\d*$/.test(m)) || new Set(modes).size !== modes.length) return undefined;
  return modes as CacheMode[];
}

/** QUERY_CACHE_MB for the mode: 0, the one given, or none (the API's default, unless apiEnv has it). */
function cacheMb(mode: CacheMode): string | undefined {
  return mode === 'off' ? '0' : mode === 'on' ? undefined : mode.slice(3);
}

export interface CachePhaseSettings {
  modes: CacheMode[];
  /** Open dashboards, each refreshing every pollSeconds (at most one refresh in flight, as the page). */
  dashboards: number;
  pollSeconds: number;
  /** Questions per second of the ad-hoc mix (query-mix.ts), arriving at random (Poisson), whatever the answers take. */
  adhocRate: number;
  /** Events per second the ingest writer applies to the live version over both phases. */
  ingestRate: number;
  /** Timed window of each phase, after one poll period and `warmup` seconds. */
  seconds: number;
  warmup: number;
  /** The query API's environment beside QUERY_CACHE_MB (off: 0; on: the API's default unless apiEnv sets it). */
  apiEnv: Record<string, string>;
}

export interface CacheContext {
  resources: Resources;
  url: string;
  schemaName: string;
  secret: string;
  postmasterPid: number;
  merchantId(i: number): string;
  skew: MerchantSkew;
  shapes: readonly MerchantShape[];
  partitions: readonly number[];
  /** A token for each merchant (the ad-hoc clients'). */
  tokens: ReadonlyMap<string, string>;
  /** The bench's "now": the dashboards' today, and when the ingested events occur. */
  now: Date;
  /** The data set's end: the ad-hoc questions end there, as in the api phase. */
  end: Date;
}

interface Sample { kind: string; ms: number }

/** What is read at either end of the timed window. */
interface Mark { cpu: CpuSnapshot; lookups: Promise<CacheLookups>; gc: Promise<GcTimes>; ingest: IngestCount }

interface PhaseResult {
  mode: CacheMode;
  seconds: number;
  samples: Sample[];
  errors: number;
  polls: number;
  skippedTicks: number;
  lookups: CacheLookups;
  held: CacheHeld;
  /** The query API's GC pauses over the window. */
  gc: string;
  ingest: { events: number; seconds: number };
  cpu: CpuUsage;
  backends: string;
}

const DASHBOARD_SEED = 13;
const ADHOC_SEED = 99;
const INGEST_SEED = 2026;
/** Ad-hoc questions in flight at most; more wait for a socket, and their wait counts in their time. */
const ADHOC_SOCKETS = 64;

/**
 * The answer cache off and on, one phase each, with the same load from the
 * same seeds, each on a freshly started query API and the data set as loaded:
 * open dashboards refreshing on their period, ad-hoc questions at a fixed
 * rate, and the ingest writer applying new events to the live version
 * throughout (paused only between phases). Before the cache-on phase's
 * load, the dashboard's page load for the largest merchant (a year of data).
 */
export async function runCachePhases(context: CacheContext, settings: CachePhaseSettings, pool: number): Promise<void> {
  const dashboards = openDashboards(settings.dashboards, context.skew, seededRandom(DASHBOARD_SEED), context.now, context.merchantId);
  // Every open page has its own sign-in, as every member of staff has their own link.
  const dashboardTokens = await Promise.all(dashboards.map((d) =>
    signMerchantToken(context.secret, { kind: 'merchant', merchantId: d.merchantId }, { ttlSeconds: 3600 })));
  describeLoad(context, settings, dashboards);

  const writer = new IngestWriter({
    url: context.url,
    target: { projection: PROJECTION_NAME, version: 1, schemaName: context.schemaName, engine: 'postgres', logic: merchantMetricsV1 },
    eventsPerSecond: settings.ingestRate, skew: context.skew, shapes: context.shapes, partitions: context.partitions,
    merchantId: context.merchantId, clockStart: context.now, seed: INGEST_SEED,
  });
  await writer.start();
  context.resources.onCleanup('ingest writer', async () => { await writer.stop(); });
  const results: PhaseResult[] = [];
  let pageLoadDone = false;
  try {
    for (const mode of settings.modes) {
      await resetData(context, writer);
      const env: Record<string, string> = {
        DATABASE_URL: context.url, MERCHANT_JWT_SECRET: context.secret, DATABASE_POOL_SIZE: String(pool), NODE_ENV: 'production',
        ...settings.apiEnv, ...(cacheMb(mode) === undefined ? {} : { QUERY_CACHE_MB: cacheMb(mode)! }),
      };
      const api = await startApp(context.resources, context.resources.tempDir(`bench-query-cache-${mode.replace(':', '-')}-`), QUERY_API_APP, env);
      try {
        // On the first API with the cache on (or the last one, if none has it).
        const last = mode === settings.modes[settings.modes.length - 1];
        if (!pageLoadDone && (mode !== 'off' || last)) {
          await measurePageLoad(api, context, mode);
          pageLoadDone = true;
        }
        const result = await runPhase(api, mode, context, settings, dashboards, dashboardTokens, writer);
        results.push(result);
        reportPhase(result, settings);
      } finally {
        await api.stop();
      }
    }
  } finally {
    const total = await writer.stop();
    console.log(`\ningest writer: ${total.events.toLocaleString('en-US')} events in ${total.transactions.toLocaleString('en-US')} transactions over all phases`);
  }
  compare(results);
}

/**
 * The data set as loaded, before each phase: without this, every phase would
 * find the events of those before it (2,000 events/s over a phase is as much
 * as the largest merchant has in a month, all of it today), and the later
 * phases' dashboards would read more. The writer pauses meanwhile; its
 * positions go on, so watermarks keep moving forward. Each phase's query API
 * starts after this, with an empty cache.
 */
async function resetData(context: CacheContext, writer: IngestWriter): Promise<void> {
  await writer.pause();
  const started = performance.now();
  const removed = await removeRowsAfter(context.url, context.schemaName, context.end);
  await withClient(context.url, (c) => c.query(`vacuum ${DATASET_TABLES.map((t) => `${context.schemaName}.${t}`).join(', ')}`));
  if (removed > 0) console.log(`\n(removed the ${removed.toLocaleString('en-US')} rows of the phase before and vacuumed, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  writer.resume();
}

function describeLoad(context: CacheContext, settings: CachePhaseSettings, dashboards: Dashboard[]): void {
  // A refresh finds the merchant's data as the previous one left it only if no event came in between: e^(-λP) for a Poisson stream.
  let unchanged = 0;
  for (const d of dashboards) unchanged += Math.exp(-settings.ingestRate * context.skew.share(d.merchant) * settings.pollSeconds);
  const ranks = dashboards.map((d) => d.merchant + 1).sort((a, b) => a - b);
  console.log(`\nanswer cache off and on (${settings.modes.join(', ')}), each on a fresh query API: ${dashboards.length} dashboards, one per merchant ` +
    `(ranks by size: median ${ranks[Math.floor(ranks.length / 2)]} of ${context.skew.merchants}, the largest's included), refreshing every ${settings.pollSeconds} s ` +
    `(last 30 days by day vs the previous 30), ${settings.adhocRate} ad-hoc questions/s, ingest ${settings.ingestRate.toLocaleString('en-US')} events/s into v1; ` +
    `${settings.seconds} s timed after ${settings.pollSeconds + settings.warmup} s`);
  console.log(`  refreshes whose merchant gets no event within one period (Poisson, from the skew): ${((100 * unchanged) / dashboards.length).toFixed(1)}%; ` +
    `the largest merchant gets ${(settings.ingestRate * context.skew.share(0)).toFixed(0)} events/s`);
}

async function runPhase(
  api: ApiHandle, mode: CacheMode, context: CacheContext, settings: CachePhaseSettings, dashboards: Dashboard[], dashboardTokens: string[],
  writer: IngestWriter,
): Promise<PhaseResult> {
  const periodMs = settings.pollSeconds * 1000;
  const t0 = performance.now();
  const windowStart = t0 + periodMs + settings.warmup * 1000;
  const windowEnd = windowStart + settings.seconds * 1000;
  const samples: Sample[] = [];
  let errors = 0;
  let polls = 0;
  let skippedTicks = 0;
  const inWindow = (t: number) => t >= windowStart && t <= windowEnd;
  const dashboardClient = new RawHttpClient(api.url, 2 * dashboards.length);
  const adhocClient = new RawHttpClient(api.url, ADHOC_SOCKETS);

  // An ad-hoc question's time runs from when it was due, so that a slow answer delaying the next ones counts against the API.
  const timed = async (client: RawHttpClient, kind: string, body: string, token: string, started = performance.now()): Promise<void> => {
    try {
      checkAnswer(await client.post(body, token));
      const done = performance.now();
      if (inWindow(done)) samples.push({ kind, ms: done - started });
    } catch (error) {
      if (inWindow(performance.now())) errors++;
      if (errors <= 3) console.error(`  ${kind} failed: ${(error as Error).message.slice(0, 300)}`);
    }
  };
  const sleepUntil = (t: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, t - performance.now())));

  // The page refreshes on a fixed interval and skips a tick while its previous refresh is still in flight.
  const dashboardRandom = seededRandom(DASHBOARD_SEED + 1);
  const dashboardLoop = async (d: Dashboard, token: string, opensAt: number) => {
    let tick = opensAt;
    await sleepUntil(tick);
    while (tick < windowEnd) {
      await Promise.all([timed(dashboardClient, 'dashboard overview', d.overview, token), timed(dashboardClient, 'dashboard breakdowns', d.breakdowns, token)]);
      const done = performance.now();
      if (inWindow(done)) polls++;
      tick += periodMs;
      for (; tick < done; tick += periodMs) if (inWindow(tick)) skippedTicks++;
      await sleepUntil(tick);
    }
  };
  // The ad-hoc mix as the api phase asks it (merchants drawn uniformly, six shapes in turn, five zones), at a fixed rate:
  // a skewed draw would send a sixth of the questions to the largest merchant, whose 13 months take seconds on v1.
  const adhocRandom = seededRandom(ADHOC_SEED);
  const adhocLoop = async () => {
    const answered: Array<Promise<void>> = [];
    for (let n = 0, due = t0; ; n++) {
      due += (-Math.log(1 - adhocRandom()) / settings.adhocRate) * 1000;
      if (due >= windowEnd) break;
      const shape = SHAPES[n % SHAPES.length];
      const merchant = context.merchantId(Math.floor(adhocRandom() * context.skew.merchants));
      const variables = variablesFor(shape, merchant, context.end, ZONES[Math.floor(adhocRandom() * ZONES.length)]);
      await sleepUntil(due);
      answered.push(timed(adhocClient, shape.name, JSON.stringify({ query: METRICS_QUERY, variables }), context.tokens.get(merchant)!, due));
    }
    await Promise.all(answered);
  };

  const observer = new pg.Client({ connectionString: context.url, application_name: 'bench-observer' });
  await observer.connect();
  const states = await BackendStates.connect(context.url, 'query-api');
  const watch = { postmasterPid: context.postmasterPid, natsPid: 0, apiPid: api.pid };
  const mark = (): Mark => ({ cpu: cpuSnapshot(watch), lookups: readCacheLookups(api.adminUrl), gc: readGc(api.adminUrl), ingest: writer.count() });
  const at: { start?: Mark; end?: Mark } = {};
  const marks = Promise.all([
    sleepUntil(windowStart).then(() => { at.start = mark(); states.begin(); }),
    sleepUntil(windowEnd).then(() => { at.end = mark(); states.end(); }),
  ]);
  try {
    await Promise.all([
      ...dashboards.map((d, k) => dashboardLoop(d, dashboardTokens[k], t0 + dashboardRandom() * periodMs)),
      ...(settings.adhocRate > 0 ? [adhocLoop()] : []),
      marks,
    ]);
    const roles = await postgresRoles(observer);
    const start = at.start!;
    const end = at.end!;
    return {
      mode, seconds: (end.cpu.at - start.cpu.at) / 1000, samples, errors, polls, skippedTicks,
      lookups: lookupsBetween(await start.lookups, await end.lookups),
      held: await readCacheHeld(api.adminUrl),
      gc: `${gcBetween(await start.gc, await end.gc)}; heap in use ${((await end.gc).heapUsedBytes / 1048576).toFixed(0)} MiB at the end`,
      ingest: { events: end.ingest.events - start.ingest.events, seconds: (end.ingest.at - start.ingest.at) / 1000 },
      cpu: cpuBetween(start.cpu, end.cpu, roles), backends: states.summary(),
    };
  } finally {
    dashboardClient.close();
    adhocClient.close();
    await states.close();
    await observer.end();
  }
}

interface Figures { n: number; perSecond: number; p50: number; p99: number }

function figures(samples: Sample[], seconds: number, kinds: (kind: string) => boolean): Figures {
  const ms = samples.filter((s) => kinds(s.kind)).map((s) => s.ms).sort((a, b) => a - b);
  return { n: ms.length, perSecond: ms.length / seconds, p50: percentile(ms, 0.5), p99: percentile(ms, 0.99) };
}

const line = (label: string, f: Figures, unit = 'requests') =>
  `  ${label.padEnd(24)} ${String(f.n).padStart(7)} ${unit} = ${f.perSecond.toFixed(1).padStart(7)}/s   p50 ${f.p50.toFixed(1).padStart(6)} ms   p99 ${f.p99.toFixed(1).padStart(7)} ms`;

const isDashboard = (kind: string) => kind.startsWith('dashboard');

function reportPhase(r: PhaseResult, settings: CachePhaseSettings): void {
  const all = figures(r.samples, r.seconds, () => true);
  const dashboard = figures(r.samples, r.seconds, isDashboard);
  const adhoc = figures(r.samples, r.seconds, (k) => !isDashboard(k));
  const answers = (2 * dashboard.n + adhoc.n) / r.seconds;
  console.log(`\ncache ${r.mode} (QUERY_CACHE_MB ${cacheMb(r.mode) ?? settings.apiEnv.QUERY_CACHE_MB ?? 'default'}): ` +
    `${r.seconds.toFixed(1)} s, errors ${r.errors}, ingest ${(r.ingest.events / r.ingest.seconds).toFixed(0)} events/s (asked ${settings.ingestRate})`);
  console.log(line('all requests', all));
  console.log(line('dashboards', dashboard) + `   (${dashboard.n ? ((100 * dashboard.n) / all.n).toFixed(0) : 0}% of requests)`);
  for (const kind of ['dashboard overview', 'dashboard breakdowns']) console.log(line(`  ${kind.slice(10)}`, figures(r.samples, r.seconds, (k) => k === kind)));
  console.log(line(`ad-hoc (${settings.adhocRate}/s asked)`, adhoc));
  for (const shape of SHAPES) console.log(line(`  ${shape.name}`, figures(r.samples, r.seconds, (k) => k === shape.name)));
  const duePolls = r.polls + r.skippedTicks;
  console.log(`  refreshes: ${r.polls} done, ${r.skippedTicks} ticks skipped while one was in flight (${duePolls ? ((100 * r.skippedTicks) / duePolls).toFixed(1) : 0}%); ` +
    `merchantMetrics answers ${answers.toFixed(0)}/s (2 per dashboard request)`);
  console.log(`  answer cache (admin /metrics, over the window): ${hitRate(r.lookups)}` +
    (r.mode === 'off' ? '' : `; holding ${(r.held.bytes / 1048576).toFixed(1)} MiB (estimated) in ${r.held.entries.toLocaleString('en-US')} answers at the end`));
  const c = r.cpu.cores;
  const per = (cores: number) => `${((cores * 1000) / all.perSecond).toFixed(2)} ms/request`;
  const pgRoles = Object.entries(r.cpu.postgresByRole).filter(([, v]) => v >= 0.01).map(([role, v]) => `${role} ${v.toFixed(2)}`).join(', ');
  console.log(`  CPU (cores of 2): query API ${c.api.toFixed(2)} (${per(c.api)}), PostgreSQL ${c.postgres.toFixed(2)} (${per(c.postgres)}; ${pgRoles}), ` +
    `bench process ${c.bench.toFixed(2)} (clients and ingest writer), other ${c.other.toFixed(2)}, idle ${c.machineIdle.toFixed(2)}, steal ${c.steal.toFixed(2)}`);
  if (r.cpu.others.length > 0) console.log(`  other busy processes: ${r.cpu.others.map(([name, cores]) => `${name} ${cores.toFixed(2)}`).join(', ')}`);
  console.log(`  query API's GC pauses: ${r.gc}`);
  console.log(`  query API's PostgreSQL backends (average): ${r.backends}`);
}

function compare(results: PhaseResult[]): void {
  const off = results.find((r) => r.mode === 'off');
  if (off) for (const on of results) if (on !== off) compareWithOff(on, off);
}

function compareWithOff(on: PhaseResult, off: PhaseResult): void {
  const of = (r: PhaseResult, kinds: (k: string) => boolean) => figures(r.samples, r.seconds, kinds);
  const ratio = (a: number, b: number) => (b === 0 ? '—' : (a / b).toFixed(2));
  const rows: Array<[string, (k: string) => boolean]> = [['all requests', () => true], ['dashboards', isDashboard], ['ad-hoc', (k) => !isDashboard(k)]];
  console.log(`\ncache ${on.mode} / off:`);
  for (const [label, kinds] of rows) {
    const a = of(on, kinds);
    const b = of(off, kinds);
    console.log(`  ${label.padEnd(14)} requests/s ${ratio(a.perSecond, b.perSecond)}   p50 ${ratio(a.p50, b.p50)}   p99 ${ratio(a.p99, b.p99)}`);
  }
  const perRequest = (r: PhaseResult, cores: number) => (cores * 1000) / of(r, () => true).perSecond;
  const queryBackends = (r: PhaseResult) => r.cpu.postgresByRole.query ?? 0;
  // The ingest writer's backends cost the same in every phase: the query API's own show what the cache saves.
  console.log(`  CPU per request: query API ${ratio(perRequest(on, on.cpu.cores.api), perRequest(off, off.cpu.cores.api))}, ` +
    `the query API's PostgreSQL backends ${ratio(perRequest(on, queryBackends(on)), perRequest(off, queryBackends(off)))}, ` +
    `all of PostgreSQL ${ratio(perRequest(on, on.cpu.cores.postgres), perRequest(off, off.cpu.cores.postgres))}`);
}

/**
 * The page's first two requests for the largest merchant on the cache-on API
 * just started: the last 30 days by day (the view the page opens on), then
 * the last 12 months by month (the user's next choice), both requests at once
 * as the page sends them. The process first serves one page of another
 * merchant, so that the figures are this merchant's cold answers, not the
 * process's first request; then each page again, as the next refresh would.
 */
async function measurePageLoad(api: ApiHandle, context: CacheContext, mode: CacheMode): Promise<void> {
  const client = new RawHttpClient(api.url, 2);
  const load = async (merchant: number, preset: Preset) => {
    const id = context.merchantId(merchant);
    const token = await signMerchantToken(context.secret, { kind: 'merchant', merchantId: id }, { ttlSeconds: 3600 });
    const requests = dashboardRequests(id, preset, zoneOf(merchant), context.now);
    const before = await readCacheLookups(api.adminUrl);
    const started = performance.now();
    const time = async (body: string) => {
      const answer = await client.post(body, token);
      checkAnswer(answer);
      return { ms: performance.now() - started, bytes: answer.body.length };
    };
    const [overview, breakdowns] = await Promise.all([time(requests.overview), time(requests.breakdowns)]);
    const lookups = lookupsBetween(before, await readCacheLookups(api.adminUrl));
    return { overview, breakdowns, ms: Math.max(overview.ms, breakdowns.ms), lookups };
  };
  try {
    console.log(`\npage load for the largest merchant (${context.merchantId(0)}, ${(100 * context.skew.share(0)).toFixed(1)}% of the events, zone ${zoneOf(0)}), ` +
      `cache ${mode}, query API just started, ingest running:`);
    await load(Math.floor(context.skew.merchants / 2), 'last-30-days');
    for (const [preset, label] of [['last-30-days', 'last 30 days by day'], ['last-12-months', 'last 12 months by month']] as const) {
      for (const visit of ['first', 'again']) {
        // A view the API refuses (its statement timeout, say) is a result to report, not the end of the run.
        const r = await load(0, preset).catch((error: unknown) => error instanceof Error ? error : new Error(String(error)));
        if (r instanceof Error) {
          console.log(`  ${label.padEnd(24)} ${visit.padEnd(6)} FAILED: ${r.message.slice(0, 300)}`);
          continue;
        }
        console.log(`  ${label.padEnd(24)} ${visit.padEnd(6)} both ${r.ms.toFixed(1).padStart(6)} ms (overview ${r.overview.ms.toFixed(1)} ms, ${r.overview.bytes} bytes; ` +
          `breakdowns ${r.breakdowns.ms.toFixed(1)} ms, ${r.breakdowns.bytes} bytes); cache ${hitRate(r.lookups)}`);
      }
    }
  } finally {
    client.close();
  }
}
