/**
 * Where one of bench:skew's questions spends its time (issue 11's "what limits
 * it"): on a cluster bench:skew left (`--reuse DIR`), for one merchant
 * (default the largest) and zone, each question of bench/skew/query-shapes.ts
 * (or those whose name contains `--shape TEXT`) is answered `--runs` times
 * by readMetrics as bench:skew times it, and split into
 *   - the statement: PostgreSQL's execution (EXPLAIN ANALYZE's own figure),
 *   - the transfer: the statement's round trip minus that execution
 *     (rows and sketches sent as text, parsed by node-postgres),
 *   - the merge: readMetrics minus the round trip (decoding and merging the
 *     sketches, assembling the answer, in Node);
 * with the rows and sketch bytes the statement returned, the rows it read per
 * table (from the plan) and its buffers. The statement of the slowest question,
 * its parameters and its plan go to `--plan FILE` when asked.
 *
 *   node scripts/run-ts.mjs bench/skew/profile.ts --reuse .data/bench/skew-pg [--merchant merchant-1] [--zone Asia/Tokyo] [--shape WEEK] [--runs 20] [--version 3]
 */
import { writeFileSync } from 'node:fs';
import { PreparedStatementClient } from '@app/database';
import { PROJECTION_NAME, readMetrics } from '@app/merchant-metrics';
import { schemaNameFor } from '@app/projections';
import type { SqlClient } from '../../libs/projections/src/sql-client.js';
import { createQueryPool } from '../../apps/query-api/src/infrastructure/query-pool.js';
import { numberFlag, stringFlag } from '../support/args.js';
import { percentile } from '../support/load.js';
import { Resources, startPostgres, withClient } from '../support/stack.js';
import { DATABASE, type StoredDataset } from './load-store.js';
import { metricsQuery, SHAPES, SKEW_LIMITS as LIMITS } from './query-shapes.js';

const USAGE = 'node scripts/run-ts.mjs bench/skew/profile.ts --reuse DIR [--merchant ID] [--zone ZONE] [--shape TEXT] [--runs N] [--version N] [--plan FILE]';

const flag = (args: readonly string[], name: string, fallback?: string) => stringFlag(args, name, USAGE, fallback);
const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 0.5);

/** A client that remembers the last statement it was given, so that it can be explained and replayed alone. */
class RecordingClient implements SqlClient {
  last?: { text: string; values: unknown[] };
  constructor(private readonly inner: SqlClient) {}
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }> {
    this.last = { text, values: values ?? [] };
    return this.inner.query<R>(text, values);
  }
}

interface PlanNode { 'Node Type': string; 'Relation Name'?: string; 'Actual Rows'?: number; 'Actual Loops'?: number; Plans?: PlanNode[] }

/** Rows read per table, summed over the plan's scans (actual rows × loops). */
function rowsPerTable(node: PlanNode, into = new Map<string, number>()): Map<string, number> {
  if (node['Relation Name']) {
    const table = node['Relation Name'].replace(/_p\d+$/, '');
    into.set(table, (into.get(table) ?? 0) + (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 1));
  }
  for (const child of node.Plans ?? []) rowsPerTable(child, into);
  return into;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const reuse = flag(args, '--reuse');
  const zone = flag(args, '--zone', 'Asia/Tokyo');
  const filter = flag(args, '--shape', '');
  const runs = numberFlag(args, '--runs', 20);
  const version = numberFlag(args, '--version', 3);
  const planFile = args.includes('--plan') ? flag(args, '--plan') : undefined;
  const resources = new Resources();
  process.on('SIGINT', () => void resources.cleanup().then(() => process.exit(130)));
  try {
    const postgres = await startPostgres(resources, { reuseDir: reuse });
    const url = postgres.url(DATABASE);
    const dataset = await withClient(url, async (c) => (await c.query<{ dataset: StoredDataset }>('select dataset from public.bench_skew_dataset')).rows[0]?.dataset);
    if (!dataset) throw new Error(`no bench:skew data set in ${reuse}: run bench:skew with --reuse ${reuse} first`);
    const merchantId = flag(args, '--merchant', 'merchant-1');
    const schema = schemaNameFor(PROJECTION_NAME, version);
    const pool = createQueryPool({ databaseUrl: url, databasePoolSize: 1 }, 'bench-skew-profile');
    resources.onCleanup('profile pool', () => pool.end());
    const client = new RecordingClient(new PreparedStatementClient(pool));
    const end = Date.parse(dataset.end);
    console.log(`profile of ${merchantId} in ${zone}, v${version}, ${runs} runs each (median ms)`);
    console.log('| question | readMetrics | statement (PostgreSQL) | transfer + parse | merge in Node | rows returned | sketch bytes | rows read per table | shared buffers hit / read |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    let slowest: { total: number; plan: unknown; name: string; statement: { text: string; values: unknown[] } } | undefined;
    for (const shape of SHAPES.filter((s) => s.name.includes(filter))) {
      const query = metricsQuery(shape, merchantId, end, zone);
      await readMetrics(client, schema, query, LIMITS); // warm: plan cache, pages
      const statement = client.last!;
      const totals: number[] = [];
      const trips: number[] = [];
      let returned = { rows: 0, bytes: 0 };
      for (let run = 0; run < runs; run++) {
        let started = performance.now();
        await readMetrics(client, schema, query, LIMITS);
        totals.push(performance.now() - started);
        started = performance.now();
        const { rows } = await client.query<{ sketches?: Uint8Array | null }>(statement.text, statement.values);
        trips.push(performance.now() - started);
        returned = { rows: rows.length, bytes: rows.reduce((n, r) => n + (r.sketches?.length ?? 0), 0) };
      }
      const explained = await withClient(url, (c) => c.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>(
        `explain (analyze, buffers, format json) ${statement.text}`, statement.values));
      const plan = explained.rows[0]!['QUERY PLAN'][0]!;
      const top = plan.Plan as unknown as Record<string, number | undefined>;
      const execution = plan['Execution Time'];
      const total = median(totals);
      const trip = median(trips);
      const read = [...rowsPerTable(plan.Plan)].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`).join(', ');
      console.log(`| ${shape.name} | ${total.toFixed(1)} | ${execution.toFixed(1)} | ${Math.max(0, trip - execution).toFixed(1)} | ${Math.max(0, total - trip).toFixed(1)} | ${returned.rows.toLocaleString('en-US')} | ${returned.bytes.toLocaleString('en-US')} | ${read} | ${(top['Shared Hit Blocks'] ?? 0).toLocaleString('en-US')} / ${(top['Shared Read Blocks'] ?? 0).toLocaleString('en-US')} |`);
      if (!slowest || total > slowest.total) slowest = { total, plan, name: shape.name, statement };
    }
    if (planFile && slowest) {
      writeFileSync(planFile, JSON.stringify({ question: slowest.name, statement: slowest.statement, plan: slowest.plan }, null, 2));
      console.log(`plan of "${slowest.name}" written to ${planFile}`);
    }
  } finally {
    await resources.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exit(1);
});
