/**
 * bench:skew — the read model on a realistic, skewed population (issue 11).
 *
 * Generates a Zipf-distributed population (100,000 merchants, exponent 1.1;
 * the largest with 2,000,000 events and 500,000 customers in the last 30
 * days, others over 13 months), streams it into the event store by COPY,
 * builds merchant-metrics versions through the real rebuild path, and asks
 * the largest and the median merchant four questions (each also against the
 * previous period) through the library's readMetrics. Baseline in the same
 * run: one plain GROUP BY statement over the raw events per question, on an
 * index (merchant_id, occurred_at) built for it; the first answer of every
 * question is checked against the baseline's. Also: rebuild rates, sizes per
 * event, and the issue's targets. `--scale` shrinks it all.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import pg from 'pg';
import { createPool, PreparedStatementClient } from '@app/database';
import { createQueryPool } from '../apps/query-api/src/infrastructure/query-pool.js';
import { PROJECTION_NAME, readMetrics, merchantMetricsProjection } from '@app/merchant-metrics';
import { dropVersion, findVersion, rebuildVersion, schemaNameFor } from '@app/projections';
import { repoRoot, Resources, startPostgres, withClient } from './support/stack.js';
import { ensureBaselineIndex, runBaseline } from './skew/baseline-sql.js';
import { answerFigures, baselineFigures, compareFigures } from './skew/figures.js';
import { measureLatency, type Latency } from './skew/latency.js';
import { DATABASE, prepareStore, recordDataset, type StoredDataset } from './skew/load-store.js';
import { Population } from './skew/population.js';
import { metricsQuery, SHAPES, SKEW_LIMITS as LIMITS } from './skew/query-shapes.js';
import {
  fmt, formatTarget, mib, queryTable, targetLines, type QueryResult, type RebuildResult, type TargetLine, type VersionSize,
} from './skew/report.js';
import { parseSkewArgs, type SkewSettings } from './skew/settings.js';
import { schemaSize, storeSize } from './skew/sizes.js';


/** Builds `version` from the whole store (dropping an earlier build first, as `projections drop` does), then vacuums its tables. */
async function build(pool: pg.Pool, version: number, settings: SkewSettings): Promise<RebuildResult> {
  const existing = await findVersion(pool, PROJECTION_NAME, version);
  if (existing && settings.reuseBuilds && existing.status !== 'building') {
    console.log(`v${version}: reusing the build in the cluster (not timed)`);
    return { version, events: 0, seconds: 0, eventsPerSecond: 0, vacuumSeconds: 0, reused: true };
  }
  if (existing) {
    await pool.query('delete from projections.live where projection = $1 and version = $2', [PROJECTION_NAME, version]);
    await dropVersion(pool, PROJECTION_NAME, version);
  }
  let last = performance.now();
  const result = await rebuildVersion(pool, merchantMetricsProjection, {
    version, codeRevision: 'bench-skew', chunkEvents: settings.chunk, concurrency: settings.concurrency,
    onProgress: (p) => {
      if (performance.now() - last < 15_000) return;
      last = performance.now();
      console.log(`  v${version} ${p.phase}: ${fmt(p.done)}/${fmt(p.total)} events`);
    },
  });
  const eventsPerSecond = result.events / result.seconds;
  console.log(`rebuild v${version}: ${fmt(result.events)} events in ${result.seconds.toFixed(1)} s = ${fmt(eventsPerSecond)} events/s`);
  // Autovacuum would get there soon after a real rebuild: statistics, and the visibility map index-only scans need.
  const started = performance.now();
  await pool.query(`vacuum analyze ${await schemaTables(pool, schemaNameFor(PROJECTION_NAME, version))}`);
  return { version, events: result.events, seconds: result.seconds, eventsPerSecond, vacuumSeconds: (performance.now() - started) / 1000, reused: false };
}

/** The schema's tables for one VACUUM: partitioned parents (which cover their partitions) and plain tables. */
async function schemaTables(pool: pg.Pool, schema: string): Promise<string> {
  const { rows } = await pool.query<{ name: string }>(
    `select format('%I.%I', n.nspname, c.relname) as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relkind in ('r', 'p') and not c.relispartition`, [schema]);
  return rows.map((r) => r.name).join(', ');
}

interface Subject { kind: 'largest' | 'median'; merchantId: string; runs: number; baselineRuns: number }

async function runQueries(url: string, dataset: StoredDataset, settings: SkewSettings, population: Population): Promise<QueryResult[]> {
  const end = Date.parse(dataset.end);
  const subjects: Subject[] = [
    { kind: 'largest', merchantId: population.merchantId(1), runs: settings.runs.largest, baselineRuns: settings.runs.baselineLargest },
    { kind: 'median', merchantId: population.merchantId(population.medianRank), runs: settings.runs.median, baselineRuns: settings.runs.baselineMedian },
  ];
  // One connection each, as one query API connection would answer: the read model's statements prepared, the baseline's not.
  const readerPool = createQueryPool({ databaseUrl: url, databasePoolSize: 1 }, 'bench-skew-reader');
  // As a team would run its analytics statements: with room to sort and hash a large merchant's events in memory.
  const baselinePool = new pg.Pool({
    connectionString: url, max: 1, application_name: 'bench-skew-baseline', options: `-c work_mem=${settings.baselineWorkMem}`,
  });
  const reader = new PreparedStatementClient(readerPool);
  const results: QueryResult[] = [];
  try {
    for (const subject of subjects) {
      for (const zone of settings.zones) {
        for (const shape of SHAPES) {
          const query = metricsQuery(shape, subject.merchantId, end, zone);
          const expected = baselineFigures(await runBaseline(baselinePool, query), shape.compare);
          const baseline = await measureLatency(() => runBaseline(baselinePool, query), subject.baselineRuns, settings.baselineWarmup, settings.budgetSeconds);
          for (const version of settings.versions) {
            const schema = schemaNameFor(PROJECTION_NAME, version);
            const answer = await readMetrics(reader, schema, query, LIMITS);
            const agreement = compareFigures(answerFigures(answer), expected);
            if (agreement.mismatchCount > 0) {
              console.error(`MISMATCH v${version} ${subject.merchantId} ${zone} "${shape.name}": ${agreement.mismatchCount} figures differ from the raw GROUP BY:\n    ` +
                agreement.mismatches.join('\n    '));
              process.exitCode = 1;
            }
            const readModel: Latency = await measureLatency(() => readMetrics(reader, schema, query, LIMITS), subject.runs, settings.warmup, settings.budgetSeconds);
            results.push({
              version, merchant: subject.kind, merchantId: subject.merchantId, zone, query: shape.name, readModel, baseline,
              ratio: baseline.p50 / readModel.p50, agreement, series: answer.series.length, buckets: answer.series[0]?.points.length ?? 0,
            });
            const r = results[results.length - 1];
            console.log(`  v${version} ${subject.kind} ${zone} ${shape.name}: read model p50 ${r.readModel.p50.toFixed(1)} ms, ` +
              `baseline p50 ${r.baseline.p50.toFixed(1)} ms, ${r.ratio.toFixed(1)}x, ${agreement.cells} figures ${agreement.mismatchCount === 0 ? 'equal' : 'DIFFER'}` +
              (agreement.estimated > 0 ? `, ${agreement.estimated} customer estimates within ${(100 * agreement.maxRelativeError).toFixed(2)}%` : ''));
          }
        }
      }
    }
  } finally {
    await Promise.all([readerPool.end(), baselinePool.end()]);
  }
  return results;
}

function printPopulation(dataset: StoredDataset, population: Population, reused: boolean): void {
  const s = dataset.settings;
  const st = dataset.stats;
  console.log(`${reused ? 'reusing' : 'loaded'} the store: ${fmt(st.events)} events${reused ? '' : ` in ${dataset.loadSeconds.toFixed(0)} s (${fmt(st.events / dataset.loadSeconds)} events/s)`}, ` +
    `until ${dataset.end}: ${(100 * st.completed / st.events).toFixed(1)}% completed, ${(100 * st.failed / st.events).toFixed(1)}% failed, ${(100 * st.refunded / st.events).toFixed(1)}% refunds`);
  console.log(`  largest merchant: ${fmt(st.largestWindowEvents)} events and ${fmt(st.largestWindowCustomers)} distinct paying customers in the last 30 days ` +
    `(targets ${fmt(s.largestEvents)} and ${fmt(s.largestCustomers)}), ${fmt(st.largestEvents)} in all, 40 stores, 5 methods`);
  console.log(`  median merchant (rank ${fmt(population.medianRank)} of ${fmt(s.merchants)}): ${fmt(st.medianEvents)} events over ${s.months} months, ` +
    `${population.stores(population.medianRank)} store(s); events by rank: ${Object.entries(st.byRank).map(([r, n]) => `#${r} ${fmt(n)}`).join(', ')}`);
  console.log(`  peak refunds pending in the generator: ${fmt(st.peakPendingRefunds)}`);
}

async function main(): Promise<void> {
  const settings = parseSkewArgs(process.argv.slice(2));
  const population = new Population(settings.population);
  const started = performance.now();
  const resources = new Resources();
  process.on('SIGINT', () => void resources.cleanup().then(() => process.exit(130)));
  try {
    const p = settings.population;
    console.log(`bench:skew — scale ${settings.scale}: ${fmt(p.merchants)} merchants, Zipf ${p.exponent}, largest ${fmt(p.largestEvents)} events / ` +
      `${fmt(p.largestCustomers)} customers in 30 days (+${fmt(p.largestHistory)} before), versions ${settings.versions.join(', ')}, zones ${settings.zones.join(', ')}`);
    const postgres = await startPostgres(resources, { reuseDir: settings.reuse, settings: settings.pg });
    const url = postgres.url(DATABASE);
    const { dataset, reused } = await prepareStore(postgres.adminUrl, url, settings.population, console.log);
    printPopulation(dataset, population, reused);

    const index = await ensureBaselineIndex(url);
    if (index.built) {
      dataset.index = { seconds: index.seconds, bytes: index.bytes };
      await recordDataset(url, dataset);
    }
    console.log(`baseline index (merchant_id, occurred_at): ${index.built ? `built in ${index.seconds.toFixed(1)} s` : `built earlier${dataset.index ? ` in ${dataset.index.seconds.toFixed(1)} s` : ''}`}, ${mib(index.bytes)}`);
    const store = await withClient(url, (c) => storeSize(c));
    const events = dataset.stats.events;
    console.log(`event store: ${mib(store.bytes)}, ${fmt(store.bytes / events)} bytes/event (${store.tables.map((t) => `${t.table} ${mib(t.bytes)}`).join(', ')})`);

    const pool = createPool({ connectionString: url, max: settings.concurrency + 2 });
    resources.onCleanup('pool', () => pool.end());
    const rebuilds: RebuildResult[] = [];
    const sizes: VersionSize[] = [];
    for (const version of settings.versions) {
      const rebuild = await build(pool, version, settings);
      rebuilds.push(rebuild);
      const size = await schemaSize(pool, schemaNameFor(PROJECTION_NAME, version));
      sizes.push({ version, size, bytesPerEvent: size.bytes / events, rowsPerEvent: size.rows / events, ratioToStore: size.bytes / store.bytes });
      console.log(`v${version} read model: ${fmt(size.rows)} rows, ${mib(size.bytes)} = ${(size.rows / events).toFixed(3)} rows and ${fmt(size.bytes / events)} bytes per event, ` +
        `${(size.bytes / store.bytes).toFixed(3)} of the event store (${size.tables.map((t) => `${t.table} ${fmt(t.rows)} rows ${mib(t.bytes)}`).join('; ')})` +
        (rebuild.reused ? '' : `; vacuum analyze ${rebuild.vacuumSeconds.toFixed(1)} s`));
    }
    const built = rebuilds.filter((r) => !r.reused);
    const v2 = built.find((r) => r.version === 2);
    const v3 = built.find((r) => r.version === 3);
    if (v2 && v3) console.log(`rebuild rate v3 / v2: ${(v3.eventsPerSecond / v2.eventsPerSecond).toFixed(2)}`);

    console.log('\nqueries (readMetrics from @app/merchant-metrics; baseline: one GROUP BY over the raw events):');
    const results = await runQueries(url, dataset, settings, population);
    for (const line of queryTable(results)) console.log(line);

    const targets: Record<string, TargetLine[]> = {};
    for (const version of settings.versions) {
      targets[`v${version}`] = targetLines(version, results, sizes.find((s) => s.version === version), rebuilds);
      console.log(`\ntargets, v${version}:`);
      for (const line of targets[`v${version}`]) console.log(formatTarget(line));
    }
    const seconds = (performance.now() - started) / 1000;
    const maxRssMiB = process.resourceUsage().maxRSS / 1024;
    console.log(`\ndone in ${seconds.toFixed(0)} s; this process's peak RSS ${maxRssMiB.toFixed(0)} MiB`);

    const file = resolve(repoRoot, settings.json ?? `.data/bench/skew-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({
      bench: 'skew', at: new Date().toISOString(), settings, dataset, reused, index, store, rebuilds, sizes, results, targets, seconds, maxRssMiB,
    }, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
    console.log(`results written to ${file}`);
  } finally {
    await resources.cleanup();
  }
}

main().catch((error) => {
  // A wrong command line gets its message and the usage, exit code 2; anything else the whole error.
  const usage = error instanceof Error && error.message.includes('usage: npm run bench:skew');
  console.error(usage ? error.message : error);
  process.exit(usage ? 2 : 1);
});
