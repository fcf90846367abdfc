import { resolve } from 'node:path';
import type pg from 'pg';
import {
  ArchiveError,
  exportArchive,
  readManifest,
  removeArchivedRange,
  restoreArchivedRange,
  verifyArchive,
  type ArchivedRangeChange,
} from '@app/archive';
import { ConfigError, readArchiveDir } from '@app/config';
import { createPool } from '@app/database';
import { OpsError, UsageError, type CommandGroup, type OpsCommand, type OpsContext } from './cli.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** `--before`: a date (midnight UTC) or a time with its offset. */
function beforeOf(options: Record<string, string>): Date {
  const raw = options.before;
  if (raw === undefined) throw new UsageError('--before is required: archive export --before DATE');
  const date = DATE.test(raw) ? new Date(`${raw}T00:00:00Z`) : TIME.test(raw) ? new Date(raw) : new Date(NaN);
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(`--before must be a date (2023-01-01, midnight UTC) or an ISO 8601 time with its offset, got "${raw}"`);
  }
  return date;
}

function partitionOf(options: Record<string, string>): number {
  const raw = options.partition;
  if (raw === undefined || !/^(0|[1-9][0-9]{0,2})$/.test(raw)) throw new UsageError(`--partition must be a partition number (0, 1, …), got "${raw ?? ''}"`);
  return Number(raw);
}

/** `--dir`, else ARCHIVE_DIR. */
function dirOf(options: Record<string, string>): string {
  if (options.dir !== undefined) {
    if (options.dir === '') throw new UsageError('--dir needs a directory');
    return resolve(options.dir);
  }
  try {
    return readArchiveDir();
  } catch (error) {
    if (error instanceof ConfigError) throw new OpsError(`${error.message}; set it or pass --dir DIR`);
    throw error;
  }
}

/** A pool of the CLI's own for the command, ended afterwards; the archive's refusals as the CLI's. */
async function withPool<T>(context: OpsContext, work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = createPool({ connectionString: context.databaseUrl(), max: 2, applicationName: 'ops-archive' });
  try {
    return await work(pool);
  } catch (error) {
    if (error instanceof ArchiveError) throw new OpsError(error.message);
    throw error;
  } finally {
    await pool.end();
  }
}

/**
 * Progress on stderr: a line every few seconds at most, the first after a
 * few seconds, so long work is never silent, short work says nothing, and
 * neither floods a log.
 */
function progressLines(intervalMs = 5000): (line: () => string) => void {
  let last = performance.now();
  return (line) => {
    const now = performance.now();
    if (now - last < intervalMs) return;
    last = now;
    process.stderr.write(`${line()}\n`);
  };
}

const count = (n: number) => n.toLocaleString('en-US');
const range = (r: ArchivedRangeChange) => `partition ${r.partition}: positions ${r.firstPosition} to ${r.lastPosition} (${count(r.events)} events)`;

const exportCommand: OpsCommand = {
  name: 'export',
  args: [],
  options: { before: 'DATE', dir: 'DIR' },
  summary:
    'archive every event recorded before DATE (each partition up to its first event recorded at or after it) as ZSTD Parquet ' +
    'files, one per partition and UTC month, into the archive (ARCHIVE_DIR or --dir); extends an existing archive',
  async run(context, _args, options) {
    const before = beforeOf(options);
    const dir = dirOf(options);
    const progress = progressLines();
    const result = await withPool(context, (pool) =>
      exportArchive(pool, {
        dir, before, onProgress: (p) => progress(() => `partition ${p.partition} (${p.partition + 1} of ${p.partitions}): ${count(p.events)} events in ${p.files} new files so far`),
      }));
    const held = result.manifest.ranges.reduce((n, r) => n + r.lastPosition, 0);
    context.out(`archived ${count(result.events)} events in ${result.added.length} new files into ${dir}; it holds ${count(held)} events recorded before ${result.manifest.before}`);
    context.out('next: `archive verify`, which records the ranges that `archive remove` may then take out of the hot store');
  },
};

const verify: OpsCommand = {
  name: 'verify',
  args: [],
  options: { dir: 'DIR' },
  summary: 'read every file again: checksum, positions, and each event against the store; records the intact ranges as removable, withdraws the others',
  async run(context, _args, options) {
    const dir = dirOf(options);
    const progress = progressLines();
    const result = await withPool(context, (pool) =>
      verifyArchive(pool, { dir, onProgress: (p) => progress(() => `partition ${p.partition} (${p.partition + 1} of ${p.partitions}): ${p.files} files, ${count(p.events)} events checked so far`) }));
    for (const r of result.verified) context.out(`${range(r)} verified: removable with \`archive remove --partition ${r.partition}\``);
    if (result.problems.length === 0) {
      context.out(`verified ${result.files} files, ${count(result.events)} events: no problems`);
      return;
    }
    for (const p of result.problems) {
      context.out(`problem: partition ${p.partition}${p.file ? `, ${p.file}` : ''}${p.position === undefined ? '' : `, position ${p.position}`}: ${p.message}`);
    }
    const partitions = [...new Set(result.problems.map((p) => p.partition))].join(', ');
    throw new OpsError(`${result.problems.length} problems in ${dir} (partitions ${partitions}); their ranges are not verified and cannot be removed`);
  },
};

const remove: OpsCommand = {
  name: 'remove',
  args: [],
  options: { partition: 'N', 'all-verified': '' },
  summary: 'take the verified range of partition N (or of every partition with one: --all-verified) out of the hot store, audited in event_store.archive_audit',
  async run(context, _args, options) {
    const all = options['all-verified'] !== undefined;
    if (all === (options.partition !== undefined)) throw new UsageError('archive remove needs exactly one of --partition N and --all-verified');
    const partition = all ? undefined : partitionOf(options);
    await withPool(context, async (pool) => {
      const partitions = partition === undefined ? await verifiedPartitions(pool) : [partition];
      if (partitions.length === 0) context.out('no verified range waits for removal (run `archive verify` first)');
      for (const p of partitions) context.out(`removed ${range(await removeArchivedRange(pool, p))} from the hot store`);
    });
  },
};

async function verifiedPartitions(pool: pg.Pool): Promise<number[]> {
  const { rows } = await pool.query<{ partition: number }>(
    'select distinct partition from event_store.archived_ranges where removed_at is null order by partition',
  );
  return rows.map((r) => r.partition);
}

const restore: OpsCommand = {
  name: 'restore',
  args: [],
  options: { partition: 'N', dir: 'DIR' },
  summary: 'bring the removed range of partition N back into the hot store from the archive, after checking its files\' checksums; audited',
  async run(context, _args, options) {
    const partition = partitionOf(options);
    const dir = dirOf(options);
    const progress = progressLines();
    const restored = await withPool(context, (pool) =>
      restoreArchivedRange(pool, { dir, partition, onProgress: (p) => progress(() => `partition ${p.partition}: ${count(p.events)}/${count(p.total)} events staged`) }));
    context.out(`restored ${range(restored)} into the hot store`);
  },
};

const status: OpsCommand = {
  name: 'status',
  args: [],
  options: { dir: 'DIR' },
  summary: 'per partition: the positions archived (and in how many files), verified, and removed from the hot store, and the store\'s head',
  async run(context, _args, options) {
    const dir = dirOf(options);
    const manifest = await readManifest(dir).catch((error: unknown) => {
      throw error instanceof ArchiveError ? new OpsError(error.message) : error;
    });
    const rows = await withPool(context, async (pool) => (await pool.query<StatusRow>(STATUS_SQL)).rows);
    context.out(manifest
      ? `archive ${dir}: events recorded before ${manifest.manifest.before}, ${manifest.manifest.files.length} files, updated ${manifest.manifest.updatedAt}`
      : `archive ${dir}: no manifest yet (nothing exported)`);
    for (const r of rows) {
      const archived = manifest?.manifest.ranges[r.partition]?.lastPosition ?? 0;
      const files = manifest?.manifest.files.filter((f) => f.partition === r.partition).length ?? 0;
      context.out(`partition ${r.partition}: archived ${archived ? `1-${archived} (${files} files)` : '-'}, ` +
        `verified ${r.verified ?? '-'}, removed ${r.removed ?? '-'}, head ${r.head}`);
    }
  },
};

interface StatusRow {
  partition: number;
  head: string;
  verified: string | null;
  removed: string | null;
}

/** Per partition, the verified and the removed positions as `first-last`, from the ranges' rows. */
const STATUS_SQL = `
  select h.partition, h.head::text,
         (select min(first_position) || '-' || max(last_position) from event_store.archived_ranges r
           where r.partition = h.partition and r.removed_at is null) as verified,
         (select min(first_position) || '-' || max(last_position) from event_store.archived_ranges r
           where r.partition = h.partition and r.removed_at is not null) as removed
  from event_store.partition_heads h order by h.partition`;

/** The cold archive of raw events (libs/archive): Parquet files that old events move to and come back from. */
export const archiveCommands: CommandGroup = {
  name: 'archive',
  summary: 'the cold archive of raw events (ARCHIVE_DIR or --dir): export, verify, remove from and restore to the hot store',
  commands: [exportCommand, verify, remove, restore, status],
};
