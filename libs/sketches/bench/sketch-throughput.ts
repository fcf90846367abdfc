// Throughput of libs/sketches: TypeScript merges of each form and the SQL fold on PostgreSQL, each
// beside a baseline measured in the same run. `node scripts/run-ts.mjs libs/sketches/bench/sketch-throughput.ts`
// (uses DATABASE_URL when set, else an embedded PostgreSQL).
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { startPostgres } from '../../testing/src/postgres.js';
import { SketchAccumulator } from '../src/sketch-accumulator.js';
import { customerHashSql, decodeSketchesSql, foldSketchesSql } from '../src/sketch-sql.js';
import { RandomWords } from '../src/testing/random-words.js';

const random = new RandomWords(1);

/** Median wall and CPU time of `runs` calls, in ms (CPU time: the machine is shared, wall time is noisy). */
async function median(runs: number, fn: () => unknown, cpu: () => number = processCpu): Promise<{ wall: number; cpu: number }> {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const startCpu = cpu();
    await fn();
    cpus.push(cpu() - startCpu);
    walls.push(performance.now() - start);
  }
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(runs / 2)];
  return { wall: mid(walls), cpu: mid(cpus) };
}

function processCpu(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU ms used so far by a backend of the local server (utime + stime of /proc/<pid>/stat). */
function backendCpu(pid: number): () => number {
  const tick = 1000 / 100; // CLK_TCK is 100 on Linux
  return () => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * tick;
  };
}

const us = (t: { wall: number; cpu: number }) => `${(t.wall * 1000).toFixed(0)} µs wall, ${(t.cpu * 1000).toFixed(0)} µs CPU`;
const ms = (t: { wall: number; cpu: number }) => `${t.wall.toFixed(0)} ms wall, ${t.cpu.toFixed(0)} ms CPU`;

function sketchesOf(count: number, size: number): Buffer[] {
  const accumulator = new SketchAccumulator();
  return Array.from({ length: count }, () => {
    accumulator.reset();
    for (let i = 0; i < size; i++) accumulator.addHashWords(random.next(), random.next());
    return accumulator.encode()!;
  });
}

async function typescript(): Promise<void> {
  const accumulator = new SketchAccumulator();
  const merge = (sketches: Buffer[]) => () => {
    accumulator.reset();
    for (const s of sketches) accumulator.addEncoded(s);
    return accumulator.encode();
  };
  const readBaseline = (sketches: Buffer[]) => () => {
    let total = 0;
    for (const s of sketches) for (let i = 0; i < s.length; i++) total += s[i]; // touching every input byte once
    return total;
  };
  const cases: Array<[string, Buffer[]]> = [
    ['1,000 explicit 3-hash sketches', sketchesOf(1000, 3)],
    ['700 sparse ~2,000-register sketches', sketchesOf(700, 2150)],
    ['350 dense sketches', sketchesOf(350, 100_000)],
  ];
  for (const [name, sketches] of cases) {
    const t = await median(31, merge(sketches));
    const baseline = await median(31, readBaseline(sketches));
    console.log(`TS merge ${name}: ${us(t)} (reading their bytes: ${us(baseline)}, CPU ratio ${(t.cpu / baseline.cpu).toFixed(1)})`);
  }
  const ids = Array.from({ length: 200_000 }, () => random.id());
  const byId = await median(5, () => {
    accumulator.reset();
    for (const id of ids) accumulator.addId(id);
  });
  console.log(`TS addId (MD5 included): ${(ids.length / byId.cpu / 1000).toFixed(2)} M ids per CPU second`);
}

async function sql(): Promise<void> {
  const server = await startPostgres();
  const client = new pg.Client({ connectionString: server.adminUrl });
  await client.connect();
  try {
    // ~300k cells: most with 1–4 customers, 1,000 with 100, 20 with 5,000 (about 950k hashes in all).
    await client.query(`drop table if exists bench_hashes, bench_ids, bench_stored, bench_new`);
    await client.query(`create table bench_ids as
      select 'm-' || (c % 5000) as merchant_id, timestamptz '2026-03-01' + (c / 5000) * interval '15 minutes' as bucket,
             'cus_' || (random() * 1e9)::bigint as customer_id
      from generate_series(1, 299000) as c, generate_series(1, 1 + (c * 7) % 4)
      union all
      select 'big-' || (c % 1000), timestamptz '2026-03-01', 'cus_' || (random() * 1e9)::bigint from generate_series(1, 100000) as c
      union all
      select 'huge-' || (c % 20), timestamptz '2026-03-01', 'cus_' || (random() * 1e9)::bigint from generate_series(1, 100000) as c`);
    await client.query(`create table bench_hashes as select merchant_id, bucket, ${customerHashSql('customer_id')} as hash from bench_ids`);
    await client.query(`vacuum analyze bench_ids, bench_hashes`);
    const { rows: [size] } = await client.query(`select count(*)::int as hashes, count(distinct (merchant_id, bucket))::int as cells from bench_hashes`);
    const key = ['merchant_id', 'bucket'];
    // One backend, no parallel workers, so that its own CPU time is the statement's.
    await client.query(`set max_parallel_workers_per_gather = 0`);
    const { rows: [backend] } = await client.query(`select pg_backend_pid() as pid`);
    const timed = (text: string) => median(3, async () => {
      await client.query(`drop table if exists bench_out`);
      await client.query(`create table bench_out as ${text}`);
    }, backendCpu(backend.pid));
    const baseline = await timed(`select merchant_id, bucket, count(distinct hash) as customers from bench_hashes group by 1, 2`);
    const fold = await timed(foldSketchesSql({ key, hashes: 'bench_hashes' }));
    const foldIds = await timed(foldSketchesSql({ key, hashes: `(select merchant_id, bucket, ${customerHashSql('customer_id')} as hash from bench_ids)` }));
    console.log(`SQL fold of ${size.hashes} hashes into ${size.cells} cells: ${ms(fold)} (${(size.hashes / fold.cpu / 1000).toFixed(2)} M hashes per CPU second); ` +
      `from ids, MD5 included: ${ms(foldIds)}; count(distinct) baseline: ${ms(baseline)}, CPU ratio ${(fold.cpu / baseline.cpu).toFixed(2)}`);
    await client.query(`set work_mem = '256MB'`);
    const roomy = await timed(foldSketchesSql({ key, hashes: 'bench_hashes' }));
    await client.query(`reset work_mem`);
    console.log(`SQL fold with work_mem 256MB (sorts in memory): ${ms(roomy)}`);

    // Merge 10% new hashes into the stored sketches, set-based.
    await client.query(`create table bench_stored as ${foldSketchesSql({ key, hashes: 'bench_hashes' })}`);
    await client.query(`create table bench_new as select merchant_id, bucket, hash # 12345 as hash from bench_hashes tablesample bernoulli (10) repeatable (1)`);
    await client.query(`vacuum analyze bench_stored, bench_new`);
    const decoded = decodeSketchesSql({ key, source: 'bench_stored', column: 'sketch' });
    const merge = await timed(foldSketchesSql({
      key, hashes: `(${decoded.hashes} union all select merchant_id, bucket, hash from bench_new)`, registers: `(${decoded.registers})`,
    }));
    const { rows: [forms] } = await client.query(`select count(*) filter (where get_byte(sketch, 0) = 1)::int as explicit,
      count(*) filter (where get_byte(sketch, 0) = 2)::int as sparse, count(*) filter (where get_byte(sketch, 0) = 3)::int as dense from bench_stored`);
    console.log(`SQL decode + fold of ${size.cells} stored sketches (${JSON.stringify(forms)}) with 10% new hashes: ${ms(merge)}`);
    const { rows: [version] } = await client.query(`select current_setting('server_version') as v, current_setting('work_mem') as w`);
    console.log(`PostgreSQL ${version.v}, work_mem ${version.w}`);
  } finally {
    await client.end();
    await server.stop();
  }
}

await typescript();
await sql();
