/**
 * The reader's SQL alone: PostgreSQL CPU per statement for bench:query's
 * question mix, measured on one connection from /proc (the backend's own
 * utime + stime), unprepared and as named prepared statements.
 *
 *   node scripts/run-ts.mjs bench/query/sql-lab.ts --url postgres://... [--merchants 100] [--rounds 2]
 *        [--plan-cache auto|force_generic_plan|force_custom_plan] [--modes unprepared,prepared] [--only SHAPE]
 *        [--no-customers] [--explain SHAPE]
 *
 * Merchants bm-0 … bm-(N-1) of the bench data set (every fifth is a large one),
 * each shape asked for every merchant in each of the bench's zones.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { readFreshness, readMetrics, type MetricsQuery } from '@app/merchant-metrics';
import { readLive, type SqlClient } from '@app/projections';
import { merchantId } from './metrics-dataset.js';
import { SHAPES, variablesFor, ZONES } from './query-mix.js';

const END = new Date('2026-11-21T00:00:00Z');

function args(): { url: string; merchants: number; rounds: number; planCache: string; explain?: string; only?: string; modes: string[]; customers: boolean } {
  const a = process.argv.slice(2);
  const get = (flag: string) => {
    const i = a.indexOf(flag);
    return i >= 0 ? a[i + 1] : undefined;
  };
  const url = get('--url') ?? process.env.DATABASE_URL;
  if (!url) throw new Error('--url or DATABASE_URL is required');
  return {
    url,
    merchants: Number(get('--merchants') ?? 100),
    rounds: Number(get('--rounds') ?? 2),
    planCache: get('--plan-cache') ?? 'force_generic_plan',
    explain: get('--explain'),
    only: get('--only'),
    modes: (get('--modes') ?? 'unprepared,prepared').split(','),
    customers: !a.includes('--no-customers'),
  };
}

function cpuSeconds(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The statements readMetrics sends for a query, captured without a database. */
async function statementsFor(schema: string, query: MetricsQuery, uniqueCustomers = true): Promise<Array<{ text: string; values: unknown[] }>> {
  const captured: Array<{ text: string; values: unknown[] }> = [];
  const recorder: SqlClient = {
    query: async <R>(text: string, values?: unknown[]) => {
      captured.push({ text, values: values ?? [] });
      return { rows: [{ cells: [], totals: {} } as R] };
    },
  };
  await readMetrics(recorder, schema, query, { maxBuckets: 1000, maxRangeDays: 400 }, { uniqueCustomers });
  return captured;
}

function queryOf(shapeName: string, m: number, zone: string): MetricsQuery {
  const shape = SHAPES.find((s) => s.name === shapeName)!;
  const v = variablesFor(shape, merchantId(m), END, zone);
  return { merchantId: v.merchantId, from: new Date(v.from), to: new Date(v.to), granularity: v.granularity, timeZone: v.timeZone, groupBy: v.groupBy as MetricsQuery['groupBy'] };
}

async function main(): Promise<void> {
  const o = args();
  const client = new pg.Client({ connectionString: o.url });
  await client.connect();
  const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
  await client.query(`set plan_cache_mode = ${o.planCache}`);
  const live = await readLive(client, 'merchant-metrics');
  if (!live) throw new Error('no live version');
  const schema = live.schemaName;

  if (o.explain) {
    for (const zone of ZONES) {
      for (const m of [0, 1]) {
        for (const { text, values } of await statementsFor(schema, queryOf(o.explain, m, zone))) {
          const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, costs off) ${text}`, values);
          console.log(`\n=== ${o.explain} ${zone} ${merchantId(m)}\n${rows.map((r) => r['QUERY PLAN']).join('\n')}`);
        }
      }
    }
    await client.end();
    return;
  }

  let names = 0;
  const named = new Map<string, string>();
  const run = async (mode: 'unprepared' | 'prepared', text: string, values: unknown[]) => {
    if (mode === 'unprepared') return client.query(text, values);
    let name = named.get(text);
    if (!name) named.set(text, (name = `lab_${names++}`));
    return client.query({ name, text, values });
  };
  const partitions = Number((await client.query<{ value: string }>(`select value from event_store.settings where key = 'partitions'`)).rows[0].value);
  console.log(`PostgreSQL backend CPU per statement, ${o.merchants} merchants × ${ZONES.length} zones per shape, plan_cache_mode ${o.planCache}`);
  for (const mode of o.modes as Array<'unprepared' | 'prepared'>) {
    let totalCpu = 0;
    let totalN = 0;
    const lines: string[] = [];
    for (const shape of SHAPES) {
      if (o.only && !shape.name.startsWith(o.only)) continue;
      const work: Array<{ text: string; values: unknown[] }> = [];
      for (let m = 0; m < o.merchants; m++) for (const zone of ZONES) work.push(...(await statementsFor(schema, queryOf(shape.name, m, zone), o.customers)));
      // Warm: prepare every text, fill caches.
      for (const { text, values } of work.slice(0, 50)) await run(mode, text, values);
      for (const { text, values } of work) if (!named.has(text) && mode === 'prepared') await run(mode, text, values);
      const cpu0 = cpuSeconds(pid);
      const t0 = performance.now();
      for (let r = 0; r < o.rounds; r++) for (const { text, values } of work) await run(mode, text, values);
      const wall = performance.now() - t0;
      const cpu = cpuSeconds(pid) - cpu0;
      const n = work.length * o.rounds;
      totalCpu += cpu;
      totalN += n;
      lines.push(`  ${shape.name.padEnd(22)} ${((cpu * 1e6) / n).toFixed(0).padStart(6)} µs CPU   ${((wall * 1000) / n).toFixed(0).padStart(6)} µs wall   (${n})`);
    }
    // Freshness, as the query API asks it (one per query).
    const f0 = cpuSeconds(pid);
    const fn = 2000;
    const freshnessClient: SqlClient = { query: (text, values) => run(mode, text, values ?? []) as never };
    for (let i = 0; i < fn; i++) await readFreshness(freshnessClient, merchantId(i % o.merchants), partitions, live.version);
    const fcpu = cpuSeconds(pid) - f0;
    console.log(`${mode}: mix ${((totalCpu * 1e6) / totalN).toFixed(0)} µs CPU per metrics statement; freshness ${((fcpu * 1e6) / fn).toFixed(0)} µs`);
    for (const line of lines) console.log(line);
  }
  await client.end();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
