/**
 * Append lab: where an append's time goes, without the command API.
 *
 *   node --import @swc-node/register/esm-register bench/support/append-lab.ts [--batches N] [--clients K] [--pool N] [--sections 1,2,…]
 *
 * Starts its own embedded PostgreSQL (default durability), pre-builds batches
 * of 1000 validated events exactly as the API stores them, and measures:
 *  1. Node CPU per event of JSON.parse and validation (the API's own code).
 *  2. The application's EventStore.append (whatever version is checked out),
 *     driven by K concurrent callers, against a raw COPY of the same rows: the
 *     store's ceiling without HTTP, JSON or publication.
 *  3. One client, statement by statement (fixed SQL): claiming ids, and the
 *     insert as unnest of seven arrays, as json_to_recordset of one JSON
 *     document, and as COPY: wall time and the backend's CPU per event.
 *  4. K concurrent clients, fixed SQL, per-request transactions: three
 *     statements under the head lock; lock+advance+insert as one statement;
 *     no head lock at all (sequences, gaps possible: an upper bound only).
 *  5. The relay's read-back of stored events (payload::text), per event.
 * A diagnostic for BENCHMARKS.md; it changes nothing in the application.
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createKysely, createPool, migrateToLatest } from '@app/database';
import { EventStore, PartitionRouter, type NewEvent } from '@app/event-store';
import { validateRecordRequest } from '@app/payments';
import { cpuBetween, cpuSnapshot } from './cpu.js';
import { Resources, startPostgres, withClient } from './stack.js';
import { numberFlag } from './args.js';
import { EventFactory } from './workload.js';

type Row = NewEvent;

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => numberFlag(args, name, fallback);
const BATCHES = flag('--batches', 100);
const CLIENTS = flag('--clients', 8);
const POOL = flag('--pool', 8);
const SECTIONS = new Set((args.includes('--sections') ? args[args.indexOf('--sections') + 1] : '1,2,3,4,5,6').split(',').map(Number));
const BATCH = 1000;
const PARTITIONS = 16;
const router = new PartitionRouter(PARTITIONS);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function backendCpuMs(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

function build(factory: EventFactory, batches: number): { bodies: Buffer[]; rows: Row[][] } {
  const now = new Date();
  const bodies: Buffer[] = [];
  const rows: Row[][] = [];
  for (let b = 0; b < batches; b++) {
    const body = factory.nextBody(BATCH);
    const result = validateRecordRequest(JSON.parse(body.toString('utf8')), { now, maxFutureSkewMs: 300_000 });
    if (!result.ok) throw new Error('invalid generated events');
    bodies.push(body);
    rows.push(result.events.map((e) => ({ eventId: e.eventId, merchantId: e.merchantId, type: e.type, occurredAt: e.occurredAt, payloadJson: e.canonicalJson, bodyHash: e.bodyHash })));
  }
  return { bodies, rows };
}

/** Rows grouped by partition, in partition order, with their 1-based ordinal within the partition. */
function grouped(rows: Row[]) {
  const byPartition = new Map<number, Row[]>();
  for (const r of rows) {
    const p = router.partitionOf(r.merchantId);
    const g = byPartition.get(p);
    if (g) g.push(r); else byPartition.set(p, [r]);
  }
  const partitions = [...byPartition.keys()].sort((a, b) => a - b);
  const ordered: Array<{ p: number; ord: number; r: Row }> = [];
  for (const p of partitions) byPartition.get(p)!.forEach((r, i) => ordered.push({ p, ord: i + 1, r }));
  return { partitions, counts: partitions.map((p) => byPartition.get(p)!.length), ordered };
}

const CLAIM = `insert into event_store.event_ids (event_id, body_hash)
  select * from unnest($1::uuid[], $2::bytea[]) on conflict (event_id) do nothing returning event_id`;
const LOCK_ADVANCE = `with locked as materialized (
    select partition from event_store.partition_heads where partition = any($1::int2[]) order by partition for update)
  update event_store.partition_heads h set head = h.head + v.n
  from unnest($1::int2[], $2::int8[]) v(p, n)
  where h.partition = v.p and h.partition in (select partition from locked)
  returning h.partition, (h.head - v.n)::text as base`;
const INSERT_UNNEST = `insert into event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload)
  select * from unnest($1::int2[], $2::int8[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[])`;
const INSERT_JSON = `insert into event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload)
  select r.p, r.n, r.i, r.m, r.t, r.o, r.d
  from json_to_recordset($1::json) as r(p int2, n int8, i uuid, m text, t text, o timestamptz, d jsonb)`;
/** Lock, advance and insert in one statement: no round trip to the client inside the critical section. */
const ONE_STATEMENT = `with locked as materialized (
    select partition from event_store.partition_heads where partition = any($1::int2[]) order by partition for update
  ), heads as (
    update event_store.partition_heads h set head = h.head + v.n
    from unnest($1::int2[], $2::int8[]) v(p, n)
    where h.partition = v.p and h.partition in (select partition from locked)
    returning h.partition, h.head - v.n as base
  )
  insert into event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload)
  select e.p, heads.base + e.ord, e.id, e.m, e.t, e.o, e.j
  from unnest($3::int2[], $4::int8[], $5::uuid[], $6::text[], $7::text[], $8::timestamptz[], $9::jsonb[]) e(p, ord, id, m, t, o, j)
  join heads on heads.partition = e.p`;

type InsertForm = 'unnest arrays' | 'json_to_recordset' | 'COPY' | 'unnest of \\x1e-joined text';

/**
 * Valid JSON text never contains a raw control character (they must be escaped
 * inside strings), and neither do ids, merchant ids, types or timestamps the
 * validator accepts: so U+001E can join each column into one text parameter,
 * split again by string_to_array, with no escaping on either side.
 */
const RS = '\x1e';
const INSERT_RS = `insert into event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload)
  select * from unnest(string_to_array($1, ',')::int2[], string_to_array($2, ',')::int8[], string_to_array($3, ',')::uuid[],
    string_to_array($4, E'\\x1e'), string_to_array($5, ','), string_to_array($6, ',')::timestamptz[], string_to_array($7, E'\\x1e')::jsonb[])`;

function copyEscape(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (ch) => (ch === '\\' ? '\\\\' : ch === '\t' ? '\\t' : ch === '\n' ? '\\n' : '\\r')) : value;
}

type Timing = Map<string, { ms: number; cpu: number; wal: number }>;

async function walLsn(client: pg.Client): Promise<string> {
  return (await client.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn')).rows[0].lsn;
}

/**
 * One append in its own transaction, fixed SQL: claim ids, lock+advance heads
 * in one statement, then the insert in the given form; timed per statement
 * when a timing map is given.
 */
async function appendFixed(client: pg.Client, rows: Row[], form: InsertForm, timing?: Timing, pid?: number): Promise<void> {
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    if (!timing) return fn();
    const lsn0 = await walLsn(client);
    const c0 = backendCpuMs(pid!);
    const t0 = performance.now();
    const result = await fn();
    const t = timing.get(name) ?? { ms: 0, cpu: 0, wal: 0 };
    t.ms += performance.now() - t0;
    t.cpu += backendCpuMs(pid!) - c0;
    const { rows } = await client.query<{ bytes: string }>('select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::text as bytes', [lsn0]);
    t.wal += Number(rows[0].bytes);
    timing.set(name, t);
    return result;
  };
  const sorted = [...rows].sort((a, b) => (a.eventId < b.eventId ? -1 : 1));
  const g = grouped(sorted);
  await step('begin', () => client.query('begin'));
  await step('claim ids', () => client.query({ name: 'claim', text: CLAIM, values: [sorted.map((r) => r.eventId), sorted.map((r) => r.bodyHash)] }));
  const { rows: heads } = await step('lock+advance heads', () => client.query<{ partition: number; base: string }>({ name: 'lock-advance', text: LOCK_ADVANCE, values: [g.partitions, g.counts] }));
  const base = new Map(heads.map((h) => [h.partition, Number(h.base)]));
  await step(`insert (${form})`, async () => {
    if (form === 'unnest arrays') {
      const o = g.ordered;
      return client.query({
        name: 'insert-unnest',
        text: INSERT_UNNEST,
        values: [o.map((x) => x.p), o.map((x) => base.get(x.p)! + x.ord), o.map((x) => x.r.eventId), o.map((x) => x.r.merchantId), o.map((x) => x.r.type), o.map((x) => x.r.occurredAt), o.map((x) => x.r.payloadJson)],
      });
    }
    if (form === 'unnest of \\x1e-joined text') {
      const o = g.ordered;
      return client.query({
        name: 'insert-rs',
        text: INSERT_RS,
        values: [
          o.map((x) => x.p).join(','), o.map((x) => base.get(x.p)! + x.ord).join(','), o.map((x) => x.r.eventId).join(','),
          o.map((x) => x.r.merchantId).join(RS), o.map((x) => x.r.type).join(','), o.map((x) => x.r.occurredAt).join(','), o.map((x) => x.r.payloadJson).join(RS),
        ],
      });
    }
    if (form === 'json_to_recordset') {
      let json = '[';
      for (const x of g.ordered) {
        if (json.length > 1) json += ',';
        json += `{"p":${x.p},"n":${base.get(x.p)! + x.ord},"i":${JSON.stringify(x.r.eventId)},"m":${JSON.stringify(x.r.merchantId)},"t":${JSON.stringify(x.r.type)},"o":${JSON.stringify(x.r.occurredAt)},"d":${x.r.payloadJson}}`;
      }
      return client.query({ name: 'insert-json', text: INSERT_JSON, values: [json + ']'] });
    }
    let text = '';
    for (const x of g.ordered) text += `${x.p}\t${base.get(x.p)! + x.ord}\t${x.r.eventId}\t${copyEscape(x.r.merchantId)}\t${x.r.type}\t${x.r.occurredAt}\t${copyEscape(x.r.payloadJson)}\n`;
    const stream = client.query(copyFrom(`copy event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload) from stdin`));
    return pipeline(Readable.from([Buffer.from(text, 'utf8')]), stream);
  });
  await step('commit', () => client.query('commit'));
}

/** Per-request transaction with the lock, advance and insert as three statements (as the API did before group commit). */
async function appendThreeUnderLock(client: pg.Client, rows: Row[]): Promise<void> {
  const sorted = [...rows].sort((a, b) => (a.eventId < b.eventId ? -1 : 1));
  const g = grouped(sorted);
  await client.query('begin');
  await client.query({ name: 'claim', text: CLAIM, values: [sorted.map((r) => r.eventId), sorted.map((r) => r.bodyHash)] });
  await client.query({ name: 'lock', text: `select partition from event_store.partition_heads where partition = any($1::int2[]) order by partition for update`, values: [g.partitions] });
  const { rows: heads } = await client.query<{ partition: number; head: string }>({
    name: 'advance',
    text: `update event_store.partition_heads h set head = h.head + v.n from unnest($1::int2[], $2::int8[]) v(p, n) where h.partition = v.p returning h.partition, h.head`,
    values: [g.partitions, g.counts],
  });
  const base = new Map(heads.map((h) => [h.partition, Number(h.head) - g.counts[g.partitions.indexOf(h.partition)]]));
  const o = g.ordered;
  await client.query({
    name: 'insert-unnest',
    text: INSERT_UNNEST,
    values: [o.map((x) => x.p), o.map((x) => base.get(x.p)! + x.ord), o.map((x) => x.r.eventId), o.map((x) => x.r.merchantId), o.map((x) => x.r.type), o.map((x) => x.r.occurredAt), o.map((x) => x.r.payloadJson)],
  });
  await client.query('commit');
}

async function appendOneStatement(client: pg.Client, rows: Row[]): Promise<void> {
  const sorted = [...rows].sort((a, b) => (a.eventId < b.eventId ? -1 : 1));
  const g = grouped(sorted);
  const o = g.ordered;
  await client.query('begin');
  await client.query({ name: 'claim', text: CLAIM, values: [sorted.map((r) => r.eventId), sorted.map((r) => r.bodyHash)] });
  await client.query({
    name: 'one',
    text: ONE_STATEMENT,
    values: [g.partitions, g.counts, o.map((x) => x.p), o.map((x) => x.ord), o.map((x) => x.r.eventId), o.map((x) => x.r.merchantId), o.map((x) => x.r.type), o.map((x) => x.r.occurredAt), o.map((x) => x.r.payloadJson)],
  });
  await client.query('commit');
}

const ONE_STATEMENT_RS = ONE_STATEMENT.replace(
  `unnest($3::int2[], $4::int8[], $5::uuid[], $6::text[], $7::text[], $8::timestamptz[], $9::jsonb[])`,
  `unnest(string_to_array($3, ',')::int2[], string_to_array($4, ',')::int8[], string_to_array($5, ',')::uuid[],
     string_to_array($6, E'\\x1e'), string_to_array($7, ','), string_to_array($8, ',')::timestamptz[], string_to_array($9, E'\\x1e')::jsonb[])`,
);

async function appendOneStatementRs(client: pg.Client, rows: Row[]): Promise<void> {
  const sorted = [...rows].sort((a, b) => (a.eventId < b.eventId ? -1 : 1));
  const g = grouped(sorted);
  const o = g.ordered;
  await client.query('begin');
  await client.query({ name: 'claim', text: CLAIM, values: [sorted.map((r) => r.eventId), sorted.map((r) => r.bodyHash)] });
  await client.query({
    name: 'one-rs',
    text: ONE_STATEMENT_RS,
    values: [g.partitions, g.counts, o.map((x) => x.p).join(','), o.map((x) => x.ord).join(','), o.map((x) => x.r.eventId).join(','),
      o.map((x) => x.r.merchantId).join(RS), o.map((x) => x.r.type).join(','), o.map((x) => x.r.occurredAt).join(','), o.map((x) => x.r.payloadJson).join(RS)],
  });
  await client.query('commit');
}

async function appendNoLock(client: pg.Client, rows: Row[]): Promise<void> {
  const sorted = [...rows].sort((a, b) => (a.eventId < b.eventId ? -1 : 1));
  const o = grouped(sorted).ordered;
  await client.query('begin');
  await client.query({ name: 'claim', text: CLAIM, values: [sorted.map((r) => r.eventId), sorted.map((r) => r.bodyHash)] });
  await client.query({
    name: 'nolock',
    text: `insert into event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload)
           select p, nextval(format('lab_seq_%s', p)::regclass), id, m, t, o, j
           from unnest($1::int2[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[]) e(p, id, m, t, o, j)`,
    values: [o.map((x) => x.p), o.map((x) => x.r.eventId), o.map((x) => x.r.merchantId), o.map((x) => x.r.type), o.map((x) => x.r.occurredAt), o.map((x) => x.r.payloadJson)],
  });
  await client.query('commit');
}

interface Throughput {
  eventsPerSecond: number;
  postgresCores: number;
  nodeUsPerEvent: number;
  /** CPU used by processes outside the lab meanwhile (skews the figure when large). */
  otherCores?: number;
}

/** K callers, each appending the next batch as soon as its previous one is done. */
async function drive(batches: Row[][], callers: number, postmasterPid: number, append: (rows: Row[], caller: number) => Promise<unknown>): Promise<Throughput> {
  let next = 0;
  const watch = { postmasterPid, natsPid: 0 };
  const cpu0 = cpuSnapshot(watch);
  await Promise.all(Array.from({ length: callers }, async (_, caller) => {
    while (next < batches.length) await append(batches[next++], caller);
  }));
  const cpu = cpuBetween(cpu0, cpuSnapshot(watch), new Map());
  return { eventsPerSecond: (batches.length * BATCH) / cpu.seconds, postgresCores: cpu.cores.postgres, nodeUsPerEvent: (cpu.cores.bench / ((batches.length * BATCH) / cpu.seconds)) * 1e6, otherCores: cpu.cores.other };
}

async function withClients<T>(url: string, n: number, fn: (clients: pg.Client[]) => Promise<T>): Promise<T> {
  const clients = await Promise.all(Array.from({ length: n }, async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return c;
  }));
  try {
    return await fn(clients);
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

async function copyRows(url: string, batches: Row[][], postmasterPid: number): Promise<Throughput> {
  const heads = new Array<number>(PARTITIONS).fill(0);
  await withClient(url, async (c) => {
    const { rows } = await c.query<{ partition: number; head: string }>('select partition, head::text from event_store.partition_heads');
    for (const r of rows) heads[r.partition] = Number(r.head) + 1_000_000;
  });
  const chunks = batches.map((rows) => {
    let text = '';
    for (const r of rows) {
      const p = router.partitionOf(r.merchantId);
      text += `${p}\t${++heads[p]}\t${r.eventId}\t${copyEscape(r.merchantId)}\t${r.type}\t${r.occurredAt}\t${copyEscape(r.payloadJson)}\n`;
    }
    return Buffer.from(text, 'utf8');
  });
  return withClients(url, 1, async ([client]) => {
    const perStatement = 30;
    const groups: Buffer[][] = [];
    for (let i = 0; i < chunks.length; i += perStatement) groups.push(chunks.slice(i, i + perStatement));
    let g = 0;
    const t = await drive(groups.map(() => []), 1, postmasterPid, async () => {
      const stream = client.query(copyFrom(`copy event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload) from stdin`));
      await pipeline(Readable.from(groups[g++]), stream);
    });
    // drive() counted BATCH events per group; correct for the real count.
    const events = chunks.length * BATCH;
    const scale = events / (groups.length * BATCH);
    return { ...t, eventsPerSecond: t.eventsPerSecond * scale, nodeUsPerEvent: t.nodeUsPerEvent / scale };
  });
}

const resources = new Resources();
process.once('SIGINT', () => void resources.cleanup().finally(() => process.exit(130)));
try {
  let serverLog = '';
  let capture = false;
  const server = await startPostgres(resources, { onLog: (m) => { if (capture) serverLog += m; } });
  const postmasterPid = server.postmasterPid();
  await withClient(server.adminUrl, (c) => c.query('create database lab'));
  const url = server.url('lab');
  {
    const pool = createPool({ connectionString: url, max: 1 });
    await migrateToLatest(createKysely(pool));
    await pool.end();
  }
  await withClient(url, async (c) => {
    for (let p = 0; p < PARTITIONS; p++) await c.query(`create sequence lab_seq_${p}`);
  });
  const checkpoint = () => withClient(url, (c) => c.query('checkpoint'));
  const line = (label: string, t: Throughput) =>
    console.log(`${label.padEnd(62)} ${fmt(t.eventsPerSecond).padStart(8)} events/s · postgres ${t.postgresCores.toFixed(2)} cores = ${((t.postgresCores / t.eventsPerSecond) * 1e6).toFixed(1)} µs/event · node ${t.nodeUsPerEvent.toFixed(1)} µs/event${(t.otherCores ?? 0) >= 0.1 ? ` (SKEWED: other processes used ${t.otherCores!.toFixed(2)} cores)` : ''}`);

  const factory = new EventFactory(10_000, 0x1ab);
  const batches = (n: number) => build(factory, n);

  // 1. Node CPU per event: the API's parsing and validation.
  if (SECTIONS.has(1)) {
    const { bodies } = batches(BATCHES);
    const now = new Date();
    let t = performance.now();
    const parsed = bodies.map((b) => JSON.parse(b.toString('utf8')));
    const parseMs = performance.now() - t;
    t = performance.now();
    for (const body of parsed) validateRecordRequest(body, { now, maxFutureSkewMs: 300_000 });
    const validateMs = performance.now() - t;
    const us = (ms: number) => ((ms * 1000) / (BATCHES * BATCH)).toFixed(2);
    console.log(`node CPU per event: JSON.parse ${us(parseMs)} µs · validation (with canonical JSON and SHA-256) ${us(validateMs)} µs`);
  }

  // 2. The application's EventStore vs raw COPY of the same kind of rows.
  if (SECTIONS.has(2)) {
    const copyBatches = batches(BATCHES * 3).rows;
    await checkpoint();
    line('raw COPY, 1 client (30 batches a statement)', await copyRows(url, copyBatches, postmasterPid));
    const storeBatches = batches(BATCHES * 3).rows;
    const pool = createPool({ connectionString: url, max: POOL });
    const store = new EventStore(pool, PARTITIONS);
    await store.append(storeBatches.pop()!); // warm up
    await checkpoint();
    line(`EventStore.append (checked-out code), ${CLIENTS} callers, pool ${POOL}`, await drive(storeBatches, CLIENTS, postmasterPid, (rows) => store.append(rows)));
    await pool.end();
  }

  // 3. One client, statement by statement.
  if (SECTIONS.has(3)) for (const form of ['unnest arrays', 'json_to_recordset', 'COPY', 'unnest of \\x1e-joined text'] as const) {
    const rows = batches(BATCHES).rows;
    await withClients(url, 1, async ([client]) => {
      const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
      await appendFixed(client, rows.pop()!, form);
      await checkpoint();
      const timing: Timing = new Map();
      const node0 = process.cpuUsage();
      const t0 = performance.now();
      for (const batch of rows) await appendFixed(client, batch, form, timing, pid);
      const wall = performance.now() - t0;
      const node = process.cpuUsage(node0);
      const n = rows.length * BATCH;
      console.log(`1 client, insert as ${form}: ${fmt(n / (wall / 1000))} events/s, node ${((node.user + node.system) / n).toFixed(1)} µs/event; per event wall µs / backend CPU µs / WAL bytes:`);
      console.log('    ' + [...timing].map(([k, v]) => `${k} ${((v.ms * 1000) / n).toFixed(2)}/${((v.cpu * 1000) / n).toFixed(2)}/${Math.round(v.wal / n)}`).join(' · '));
    });
  }

  // 4. K concurrent clients, per-request transactions.
  if (SECTIONS.has(4)) for (const [label, fn] of [
    ['fixed SQL: claim; lock; advance; insert (3 under the lock)', appendThreeUnderLock],
    ['fixed SQL: claim; lock+advance+insert as one statement', appendOneStatement],
    ['same, parameters as \\x1e-joined text', appendOneStatementRs],
    ['fixed SQL: claim; insert, no head lock (upper bound)', appendNoLock],
  ] as const) {
    const rows = batches(BATCHES * 2).rows;
    await withClient(url, async (c) => {
      await c.query('checkpoint');
      for (let p = 0; p < PARTITIONS; p++) await c.query(`select setval('lab_seq_${p}', (select head + 1 from event_store.partition_heads where partition = ${p}))`);
    });
    await withClients(url, CLIENTS, async (clients) => {
      line(`${label}, ${CLIENTS} clients`, await drive(rows, CLIENTS, postmasterPid, (batch, caller) => fn(clients[caller], batch)));
    });
  }

  // 6. Inside one append of the checked-out EventStore: every statement it runs,
  //    nested ones in functions included, timed by auto_explain (one caller).
  if (SECTIONS.has(6)) for (const size of [1000, 8000]) {
    const rows = batches((BATCHES * BATCH) / 1000).rows.flat();
    const requests: Row[][] = [];
    for (let i = 0; i + size <= rows.length; i += size) requests.push(rows.slice(i, i + size));
    const pool = createPool({ connectionString: url, max: 1 });
    pool.on('connect', (client) => {
      void client.query(`load 'auto_explain'; set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on;
                         set auto_explain.log_analyze = on; set auto_explain.log_timing = off; set auto_explain.log_format = 'json'`);
    });
    const store = new EventStore(pool, PARTITIONS);
    await store.append(requests.pop()!);
    await checkpoint();
    serverLog = '';
    capture = true;
    const t0 = performance.now();
    for (const request of requests) await store.append(request);
    const wall = performance.now() - t0;
    capture = false;
    await pool.end();
    const n = requests.length * size;
    const byStatement = new Map<string, number>();
    for (const m of serverLog.matchAll(/duration: ([\d.]+) ms\s+plan:\s*\{\s*"Query Text": "((?:[^"\\]|\\.){0,400})/g)) {
      const text = m[2].replace(/\\n/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 70);
      byStatement.set(text, (byStatement.get(text) ?? 0) + Number(m[1]));
    }
    console.log(`inside EventStore.append, 1 caller, ${size} events a request: ${fmt(n / (wall / 1000))} events/s; statement time per event (µs), nested included:`);
    for (const [text, ms] of [...byStatement].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`    ${((ms * 1000) / n).toFixed(2).padStart(6)}  ${text}`);
  }

  // 5. The relay's read-back of stored events.
  if (SECTIONS.has(5)) await withClient(url, async (c) => {
    const pid = (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
    const cpu0 = backendCpuMs(pid);
    const t = performance.now();
    let n = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      let after = 0;
      for (;;) {
        const { rows } = await c.query<{ position: string }>({
          name: `read-p${p}`,
          text: `select position, to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as recorded_at, payload::text
                 from event_store.events_p${String(p).padStart(2, '0')} where position > $1 order by position limit 5000`,
          values: [after],
        });
        if (rows.length === 0) break;
        n += rows.length;
        after = Number(rows[rows.length - 1].position);
      }
    }
    const ms = performance.now() - t;
    console.log(`relay read-back (payload::text by position, 5000 a round): ${fmt(n / (ms / 1000))} events/s, backend ${(((backendCpuMs(pid) - cpu0) * 1000) / n).toFixed(2)} µs/event`);
  });
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await resources.cleanup();
}
