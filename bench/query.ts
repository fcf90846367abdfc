/**
 * bench:query — merchants' GraphQL questions against a large read model.
 *
 * Builds a data set (default 10,000 merchants, 20 million events over 13
 * months) straight into read-model v1 with the real projection logic, starts
 * the query API as a child process, and runs concurrent clients, each with its
 * own merchant's token, asking a mix of 24-hour hourly, 90-day daily and
 * 13-month monthly series, with and without groupBy, in several time zones.
 * Baseline in the same run: the same SQL reader called directly (no HTTP, no
 * GraphQL, no auth) at the same concurrency; the ratio is the API's overhead.
 */
import { signMerchantToken } from '@app/access';
import { createKysely, createPool, migrateToLatest } from '@app/database';
import { goLiveIfFirst, installVersion, PROJECTION_NAME, readMetrics, setStatus } from '@app/merchant-metrics';
import { percentile } from './support/load.js';
import { QUERY_API_APP, Resources, startApp, startPostgres, withClient } from './support/stack.js';
import { loadMetricsDataset, merchantId } from './query/metrics-dataset.js';
import { METRICS_QUERY, SHAPES, variablesFor, ZONES, type QueryVariables } from './query/query-mix.js';
import { seededRandom } from '../libs/merchant-metrics/src/testing/generated-events.js';

interface Settings { merchants: number; events: number; seconds: number; concurrency: number; warmup: number }

function parse(argv: string[]): Settings {
  const s: Settings = { merchants: 10_000, events: 20_000_000, seconds: 20, concurrency: 16, warmup: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '') as keyof Settings;
    const value = Number(argv[i + 1]);
    if (!(key in s) || !Number.isFinite(value) || value <= 0) {
      throw new Error(`usage: npm run bench:query -- [--merchants N] [--events N] [--seconds S] [--concurrency C] [--warmup S] (bad: ${argv[i]})`);
    }
    s[key] = value;
  }
  return s;
}

const END = new Date('2026-11-21T00:00:00Z');
const START = new Date('2025-10-21T00:00:00Z');
const SECRET = 'bench-query-secret-0123456789abcdef';

interface Sample { shape: string; ms: number }

/** Runs `ask` from `concurrency` loops for `seconds`, after `warmup` seconds not counted. */
async function drive(concurrency: number, warmup: number, seconds: number, ask: (n: number) => Promise<string>): Promise<{ samples: Sample[]; seconds: number; errors: number }> {
  const samples: Sample[] = [];
  let errors = 0;
  let counting = false;
  let n = 0;
  const stopAt = Date.now() + (warmup + seconds) * 1000;
  setTimeout(() => { counting = true; }, warmup * 1000);
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
  return { samples, seconds: (Date.now() - started) / 1000, errors };
}

function report(title: string, run: { samples: Sample[]; seconds: number; errors: number }): number {
  const all = run.samples.map((s) => s.ms).sort((a, b) => a - b);
  const qps = all.length / run.seconds;
  console.log(`\n${title}: ${all.length} queries in ${run.seconds.toFixed(1)} s = ${qps.toFixed(0)} queries/s, errors ${run.errors}`);
  console.log(`  all            p50 ${percentile(all, 0.5).toFixed(1)} ms   p99 ${percentile(all, 0.99).toFixed(1)} ms`);
  for (const shape of SHAPES) {
    const ms = run.samples.filter((s) => s.shape === shape.name).map((s) => s.ms).sort((a, b) => a - b);
    console.log(`  ${shape.name.padEnd(22)} p50 ${percentile(ms, 0.5).toFixed(1).padStart(6)} ms   p99 ${percentile(ms, 0.99).toFixed(1).padStart(6)} ms   (${ms.length})`);
  }
  return qps;
}

async function main(): Promise<void> {
  const settings = parse(process.argv.slice(2));
  const resources = new Resources();
  process.on('SIGINT', () => void resources.cleanup().then(() => process.exit(130)));
  try {
    console.log(`bench:query — ${settings.merchants} merchants, ${settings.events.toLocaleString('en-US')} events, ${START.toISOString().slice(0, 10)} to ${END.toISOString().slice(0, 10)}`);
    const postgres = await startPostgres(resources);
    await withClient(postgres.adminUrl, (c) => c.query('create database bench'));
    const url = postgres.url('bench');
    const pool = createPool({ connectionString: url, max: settings.concurrency });
    resources.onCleanup('pool', () => pool.end());
    await migrateToLatest(createKysely(createPool({ connectionString: url, max: 1 })));
    const client = await pool.connect();
    const version = await installVersion(client, { projection: PROJECTION_NAME, version: 1, partitions: 16, codeRevision: 'bench', engine: 'postgres' });
    client.release();

    console.log('loading the read model…');
    const stats = await loadMetricsDataset(url, version.schemaName, { merchants: settings.merchants, events: settings.events, from: START, to: END, seed: 7 }, console.log);
    await pool.query('vacuum analyze');
    await setStatus(pool, PROJECTION_NAME, 1, 'catching_up');
    await goLiveIfFirst(pool, PROJECTION_NAME, 1);
    console.log(`loaded ${stats.events.toLocaleString('en-US')} events in ${stats.seconds.toFixed(0)} s: ${Object.entries(stats.rows).map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`).join(', ')}`);

    const random = seededRandom(99);
    const pick = (n: number) => {
      const shape = SHAPES[n % SHAPES.length];
      const m = Math.floor(random() * settings.merchants);
      return { shape, variables: variablesFor(shape, merchantId(m), END, ZONES[Math.floor(random() * ZONES.length)]) };
    };

    // Baseline: the reader itself, no HTTP/GraphQL/auth.
    const limits = { maxBuckets: 1000, maxRangeDays: 400 };
    const baseline = await drive(settings.concurrency, settings.warmup, settings.seconds, async (n) => {
      const { shape, variables } = pick(n);
      await readMetrics(pool, version.schemaName, toQuery(variables), limits);
      return shape.name;
    });
    const baseQps = report('baseline: SQL reader called directly', baseline);

    const api = await startApp(resources, resources.tempDir('bench-query-'), QUERY_API_APP, {
      DATABASE_URL: url, MERCHANT_JWT_SECRET: SECRET, DATABASE_POOL_SIZE: String(settings.concurrency), NODE_ENV: 'production',
    });
    const tokens = new Map<string, string>();
    const tokenFor = async (merchant: string) => {
      let token = tokens.get(merchant);
      if (!token) tokens.set(merchant, (token = await signMerchantToken(SECRET, { kind: 'merchant', merchantId: merchant }, { ttlSeconds: 3600 })));
      return token;
    };
    const result = await drive(settings.concurrency, settings.warmup, settings.seconds, async (n) => {
      const { shape, variables } = pick(n);
      const res = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(variables.merchantId)}` },
        body: JSON.stringify({ query: METRICS_QUERY, variables }),
      });
      const body = (await res.json()) as { errors?: Array<{ message: string }> };
      if (res.status !== 200 || body.errors) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body.errors ?? body)}`);
      return shape.name;
    });
    const apiQps = report('query API (GraphQL over HTTP, merchant tokens)', result);
    console.log(`\nAPI / reader throughput ratio: ${(apiQps / baseQps).toFixed(2)}   targets: p99 < 50 ms and >= 2,000 queries/s`);
  } finally {
    await resources.cleanup();
  }
}

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
