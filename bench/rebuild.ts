/**
 * bench:rebuild — how fast `projections rebuild` builds a version from the
 * whole event store, against the same run's sequential scan rate of the store
 * (a plain `COPY (SELECT position, recorded_at, payload …) TO STDOUT`, rows/s;
 * also, stricter, two such scans side by side). Targets: ≥ 0.3 of the scan
 * rate and ≥ 300,000 events/s.
 *
 * The store is loaded directly (COPY into the partitions, heads set) with
 * generated events over 13 months; event_ids is not filled, since a rebuild
 * never reads it.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { createKysely, createPool, migrateToLatest } from '@app/database';
import { partitionOf, partitionTable } from '@app/event-store';
import { PROJECTION_NAME, merchantMetricsProjection } from '@app/merchant-metrics';
import { dropVersion, findVersion, rebuildVersion } from '@app/projections';
import { generateEvents } from '../libs/merchant-metrics/src/testing/generated-events.js';
import { summarizeCpuProfile } from './support/cpu-profile-summary.js';
import { addNameValue } from './support/args.js';
import { Resources, startPostgres, withClient } from './support/stack.js';

interface Settings { events: number; merchants: number; version: number; chunk: number; concurrency: number; reuse?: string; pg: Record<string, string> }

const USAGE = 'usage: npm run bench:rebuild -- [--events N] [--merchants N] [--version N] [--chunk N] [--concurrency N] [--reuse DIR] [--pg NAME=VALUE]...';

function parse(argv: string[]): Settings {
  const s: Settings = { events: 20_000_000, merchants: 10_000, version: 2, chunk: 2_000_000, concurrency: 2, pg: {} };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--reuse' && argv[i + 1]) {
      s.reuse = argv[i + 1];
      continue;
    }
    if (argv[i] === '--pg') {
      // A PostgreSQL setting for this run's server (scan and rebuild alike), e.g. shared_buffers=4GB.
      addNameValue(s.pg, argv[i + 1] ?? '', '--pg takes NAME=VALUE (a PostgreSQL setting)', USAGE);
      continue;
    }
    const key = argv[i].replace(/^--/, '') as Exclude<keyof Settings, 'reuse' | 'pg'>;
    const value = Number(argv[i + 1]);
    if (!(key in s) || !Number.isInteger(value) || value <= 0) {
      throw new Error(`${USAGE} (bad: ${argv[i]})`);
    }
    s[key] = value;
  }
  return s;
}

const PARTITIONS = 16;
const copyText = (v: string) => v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');

async function loadStore(url: string, settings: Settings): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('set synchronous_commit = off');
  const heads = new Array<number>(PARTITIONS).fill(0);
  const started = Date.now();
  let loaded = 0;
  const perMerchant = Math.ceil(settings.events / settings.merchants);
  const GROUP = 250;
  for (let first = 0; first < settings.merchants; first += GROUP) {
    const lines: string[][] = Array.from({ length: PARTITIONS }, () => []);
    for (let m = first; m < Math.min(settings.merchants, first + GROUP); m++) {
      const merchantId = `rb-${m}`;
      const p = partitionOf(merchantId, PARTITIONS);
      const events = generateEvents({
        seed: m + 1, count: perMerchant, merchants: 1, merchantPrefix: `${merchantId}-x`,
        from: new Date('2025-10-21T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z'),
      });
      for (const e of events) {
        const event = { ...e, eventId: randomUUID(), merchantId };
        const type = event.paymentCompleted ? 'payment_completed' : event.paymentFailed ? 'payment_failed' : 'payment_refunded';
        lines[p].push(`${p}\t${++heads[p]}\t${event.eventId}\t${merchantId}\t${type}\t${event.occurredAt}\t${copyText(JSON.stringify(event))}\n`);
      }
      loaded += events.length;
    }
    for (let p = 0; p < PARTITIONS; p++) {
      if (lines[p].length === 0) continue;
      await pipeline(Readable.from(lines[p]), client.query(copyFrom(
        `copy ${partitionTable(p)} (partition, position, event_id, merchant_id, event_type, occurred_at, payload) from stdin`)));
    }
    if ((first + GROUP) % 2000 === 0) console.log(`  ${loaded.toLocaleString('en-US')} events stored, ${Math.round((Date.now() - started) / 1000)} s`);
  }
  for (let p = 0; p < PARTITIONS; p++) await client.query('update event_store.partition_heads set head = $2 where partition = $1', [p, heads[p]]);
  await client.query('vacuum analyze event_store.events');
  await client.end();
  return loaded;
}

/**
 * A store with the settings' events: loaded now, or (with --reuse) found from
 * an earlier run with the same settings, whose build of the version is dropped.
 */
async function prepareStore(adminUrl: string, url: string, settings: Settings): Promise<number> {
  const marker = `${settings.events}/${settings.merchants}`;
  const existing = await withClient(adminUrl, async (c) =>
    (await c.query(`select shobj_description(oid, 'pg_database') as marker from pg_database where datname = 'bench'`)).rows[0] as { marker: string | null } | undefined);
  if (existing?.marker === marker) {
    const stored = await withClient(url, async (c) => {
      // The earlier build goes the way `projections drop` removes a version (never live here, but unpinned first).
      await c.query(`delete from projections.live where projection = $1 and version = $2`, [PROJECTION_NAME, settings.version]);
      if (await findVersion(c, PROJECTION_NAME, settings.version)) await dropVersion(c, PROJECTION_NAME, settings.version);
      return Number((await c.query('select sum(head)::bigint as n from event_store.partition_heads')).rows[0].n);
    });
    console.log(`reusing the store in ${settings.reuse}: ${stored.toLocaleString('en-US')} events`);
    return stored;
  }
  if (existing) await withClient(adminUrl, (c) => c.query('drop database bench'));
  await withClient(adminUrl, (c) => c.query('create database bench'));
  const db = createKysely(createPool({ connectionString: url, max: 1 }));
  await migrateToLatest(db);
  await db.destroy();
  console.log('loading the event store…');
  const stored = await loadStore(url, settings);
  await withClient(adminUrl, (c) => c.query(`comment on database bench is '${marker}'`));
  return stored;
}

/** Counts the rows of a COPY … TO STDOUT (text format: one line per row). */
async function copyRows(client: pg.Client, statement: string): Promise<number> {
  let newlines = 0;
  await pipeline(
    client.query(copyTo(statement)),
    new Writable({
      write(chunk: Buffer, _e, done) {
        // indexOf is a native scan: counting must not be what limits the rate measured.
        for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) newlines++;
        done();
      },
    }),
  );
  return newlines;
}

/**
 * The store's sequential scan rate, two ways: the issue's baseline, one plain
 * `COPY (SELECT position, recorded_at, payload FROM event_store.events) TO
 * STDOUT` (one backend, one core); and, stricter, every partition in position
 * order two at a time, as the rebuild reads it with both cores.
 */
async function scanRates(url: string): Promise<{ plain: number; parallel: number; rows: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let started = performance.now();
  const rows = await copyRows(client, 'copy (select position, recorded_at, payload from event_store.events) to stdout');
  const plain = rows / ((performance.now() - started) / 1000);
  await client.end();

  started = performance.now();
  let parallelRows = 0;
  const queue = Array.from({ length: PARTITIONS }, (_, p) => p);
  await Promise.all([0, 1].map(async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
      parallelRows += await copyRows(c, `copy (select position, recorded_at, payload from ${partitionTable(p)} order by position) to stdout`);
    }
    await c.end();
  }));
  return { plain, parallel: parallelRows / ((performance.now() - started) / 1000), rows };
}

/** With BENCH_CPU_PROFILE=FILE, a V8 CPU profile of this process during the rebuild only, and its top functions. */
async function startProfile(): Promise<{ stop(): Promise<void> } | undefined> {
  const file = process.env.BENCH_CPU_PROFILE;
  if (!file) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      const summary = summarizeCpuProfile(file, 25);
      console.log(JSON.stringify(summary, null, 1).slice(0, 6000));
    },
  };
}

async function main(): Promise<void> {
  const settings = parse(process.argv.slice(2));
  const resources = new Resources();
  process.on('SIGINT', () => void resources.cleanup().then(() => process.exit(130)));
  try {
    console.log(`bench:rebuild — ${settings.events.toLocaleString('en-US')} events, ${settings.merchants} merchants, version ${settings.version}${Object.keys(settings.pg).length ? `, PostgreSQL ${Object.entries(settings.pg).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`);
    const postgres = await startPostgres(resources, { reuseDir: settings.reuse, settings: settings.pg });
    const url = postgres.url('bench');
    const stored = await prepareStore(postgres.adminUrl, url, settings);

    const scan = await scanRates(url);
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log(`baseline: one plain COPY (SELECT …) TO STDOUT of the store: ${scan.rows.toLocaleString('en-US')} rows at ${fmt(scan.plain)} rows/s`);
    console.log(`          partitions in position order, two COPYs at a time (stricter): ${fmt(scan.parallel)} rows/s`);

    const pool = createPool({ connectionString: url, max: settings.concurrency + 2 });
    resources.onCleanup('pool', () => pool.end());
    let last = 0;
    const profile = await startProfile();
    const result = await rebuildVersion(pool, merchantMetricsProjection, {
      version: settings.version, codeRevision: 'bench', chunkEvents: settings.chunk, concurrency: settings.concurrency,
      onProgress: (p) => {
        if (performance.now() - last < 10_000) return;
        last = performance.now();
        console.log(`  ${p.done.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} events`);
      },
    });
    await profile?.stop();
    const rate = result.events / result.seconds;
    console.log(`rebuild v${settings.version}: ${result.events.toLocaleString('en-US')} of ${stored.toLocaleString('en-US')} events in ${result.seconds.toFixed(1)} s = ${Math.round(rate).toLocaleString('en-US')} events/s`);
    console.log(`ratio to the plain scan: ${(rate / scan.plain).toFixed(3)} (to two scans at a time: ${(rate / scan.parallel).toFixed(3)})   targets: >= 0.3 and >= 300,000 events/s`);
  } finally {
    await resources.cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
