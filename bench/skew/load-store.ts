import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createKysely, createPool, migrateToLatest } from '@app/database';
import { withClient } from '../support/stack.js';
import { StoreEventGenerator, type GeneratedStats } from './event-stream.js';
import { Population, type PopulationSettings } from './population.js';

/** The data set a store holds, recorded beside it so that `--reuse` knows what it finds. */
export interface StoredDataset {
  settings: PopulationSettings;
  /** The instant the generated events end at (the hour the store was loaded). */
  end: string;
  stats: GeneratedStats;
  loadSeconds: number;
  /** The baseline's index (merchant_id, occurred_at), built once per store. */
  index?: { seconds: number; bytes: number };
}

export const DATABASE = 'skew';

interface CopyTarget { client: pg.Client; stream: Writable; failed?: Error }

async function writeChunk(target: CopyTarget, text: string): Promise<void> {
  if (target.failed) throw target.failed;
  if (!target.stream.write(text)) await once(target.stream, 'drain');
}

async function copyClient(url: string, statement: string): Promise<CopyTarget> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench-skew-load' });
  await client.connect();
  await client.query('set synchronous_commit = off');
  const target: CopyTarget = { client, stream: client.query(copyFrom(statement)) };
  // Kept for the next write (a COPY refused mid-way must not go unnoticed, nor crash the process unhandled).
  target.stream.on('error', (error) => { target.failed = error; });
  return target;
}

/**
 * Streams the generated events into the store: rows into the partitioned
 * `event_store.events` (PostgreSQL routes each to its partition, whose
 * position the generator assigned) and their id claims into `event_ids`, two
 * COPYs side by side, chunk by chunk; then the partitions' heads.
 */
async function loadEvents(url: string, population: Population, end: number, log: (line: string) => void): Promise<GeneratedStats> {
  const partitions = await withClient(url, async (c) =>
    Number((await c.query<{ value: string }>(`select value from event_store.settings where key = 'partitions'`)).rows[0].value));
  const generator = new StoreEventGenerator(population, end, partitions);
  const events = await copyClient(url,
    'copy event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, recorded_at, payload) from stdin');
  const ids = await copyClient(url, 'copy event_store.event_ids (event_id, body_hash) from stdin');
  const expected = population.othersEvents + population.settings.largestEvents + population.settings.largestHistory;
  const started = performance.now();
  let lastLog = started;
  try {
    for (const chunk of generator.chunks(2000)) {
      await Promise.all([writeChunk(events, chunk.events), writeChunk(ids, chunk.ids)]);
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        const done = generator.stats.events;
        log(`  ${done.toLocaleString('en-US')} of ~${Math.round(expected).toLocaleString('en-US')} events stored, ` +
          `${Math.round((lastLog - started) / 1000)} s, ${Math.round(done / ((lastLog - started) / 1000)).toLocaleString('en-US')} events/s`);
      }
    }
    events.stream.end();
    ids.stream.end();
    await Promise.all([finished(events.stream), finished(ids.stream)]);
  } finally {
    await Promise.all([events.client.end(), ids.client.end()]);
  }
  const heads = generator.stats.heads;
  await withClient(url, (c) => c.query(
    'update event_store.partition_heads h set head = v.head from unnest($1::int2[], $2::int8[]) v(partition, head) where h.partition = v.partition',
    [heads.map((_, p) => p), heads],
  ));
  return generator.stats;
}

async function readDataset(url: string): Promise<StoredDataset | undefined> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ dataset: StoredDataset }>('select dataset from public.bench_skew_dataset').catch(() => ({ rows: [] }));
    return rows[0]?.dataset;
  });
}

export async function recordDataset(url: string, dataset: StoredDataset): Promise<void> {
  await withClient(url, (c) => c.query('update public.bench_skew_dataset set dataset = $1', [JSON.stringify(dataset)]));
}

async function migrate(url: string): Promise<void> {
  const db = createKysely(createPool({ connectionString: url, max: 1 }));
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}

const sameSettings = (a: PopulationSettings, b: PopulationSettings) =>
  (Object.keys(a) as Array<keyof PopulationSettings>).every((k) => a[k] === b[k]) && Object.keys(a).length === Object.keys(b).length;

/**
 * The store for `settings`: found complete in the cluster (a `--reuse` run
 * with the same settings), or loaded now into a fresh database.
 */
export async function prepareStore(
  adminUrl: string, url: string, settings: PopulationSettings, log: (line: string) => void,
): Promise<{ dataset: StoredDataset; reused: boolean }> {
  const exists = await withClient(adminUrl, async (c) => (await c.query('select 1 from pg_database where datname = $1', [DATABASE])).rows.length > 0);
  if (exists) {
    const found = await readDataset(url);
    if (found && sameSettings(found.settings, settings)) {
      await migrate(url); // migrations added since it was loaded
      return { dataset: found, reused: true };
    }
    log(found ? 'the reused cluster holds another data set: loading anew' : 'the reused cluster holds no complete data set: loading anew');
    await withClient(adminUrl, (c) => c.query(`drop database ${DATABASE}`));
  }
  await withClient(adminUrl, (c) => c.query(`create database ${DATABASE}`));
  await migrate(url);
  const population = new Population(settings);
  // Whole hours, so that every zone's hour, day, week and month boundaries are the grid's.
  const end = Math.floor(Date.now() / 3_600_000) * 3_600_000;
  log(`loading the event store: ~${Math.round(population.othersEvents + settings.largestEvents + settings.largestHistory).toLocaleString('en-US')} events ` +
    `until ${new Date(end).toISOString()}…`);
  const started = performance.now();
  const stats = await loadEvents(url, population, end, log);
  await withClient(url, (c) => c.query('vacuum analyze event_store.events, event_store.event_ids'));
  const dataset: StoredDataset = { settings, end: new Date(end).toISOString(), stats, loadSeconds: (performance.now() - started) / 1000 };
  // Written last: a store whose load was interrupted has no record and is loaded anew.
  await withClient(url, async (c) => {
    await c.query('create table public.bench_skew_dataset (dataset jsonb not null)');
    await c.query('insert into public.bench_skew_dataset values ($1)', [JSON.stringify(dataset)]);
  });
  return { dataset, reused: false };
}
