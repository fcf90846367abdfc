import { mkdir } from 'node:fs/promises';
import type pg from 'pg';
import { readPartitionCount } from '@app/event-store';
import { ArchiveError } from './archive-error.js';
import { ArchiveFileWriter, publishStaged, removeStaging, resetStaging, stagingDir } from './archive-file-writer.js';
import { lockArchive } from './archive-lock.js';
import { readStoreRows, type ArchivedRow } from './archived-row.js';
import { openDuckDB, type DuckDB } from './duckdb.js';
import { emptyManifest, readManifest, removeUnlisted, writeManifest, type ArchiveFile, type ArchiveManifest, type ArchivedPartition } from './manifest.js';
import { checkArchiveOfStore } from './store-consistency.js';
import { utcMonthOf } from './timestamps.js';

export interface ExportOptions {
  dir: string;
  /** Events recorded before this instant are archived (each partition up to its first event recorded at or after it). */
  before: Date;
  onProgress?: (progress: ExportProgress) => void;
  /** Rows read from PostgreSQL at a time (default 50,000): what the export holds in memory. */
  batchEvents?: number;
  /** Most events in one file (default 1,000,000): a larger month is split into parts. */
  maxFileEvents?: number;
}

export interface ExportProgress {
  partition: number;
  partitions: number;
  /** Events written by this export so far, over all partitions. */
  events: number;
  files: number;
}

export interface ExportResult {
  manifest: ArchiveManifest;
  manifestSha256: string;
  /** The files this export added; the manifest's earlier files are untouched. */
  added: ArchiveFile[];
  events: number;
}

/**
 * Archives, per partition, the positions from the end of the archive's range
 * (or 1) up to just before the first event recorded at or after `before`:
 * positions are given in commit order, so a partition's archive stays one
 * range 1..N, and an event recorded earlier but committed after a later one
 * (a straggler) waits for the next export rather than leaving a hole.
 *
 * Files are per partition and UTC month of recorded_at: a new file starts at
 * the first event of a later month than the current file's (so an early
 * straggler stays with its neighbours, keeping each file one run of
 * positions) or after `maxFileEvents`. The store is read in batches, and a
 * file's rows wait on disk in chunks until it is complete: memory is bounded
 * by the batch.
 *
 * New files wait in a staging directory and move into place at the end,
 * just before the manifest is rewritten, once, atomically: an export that
 * fails leaves the archive as it was. Should it fail between the two, the
 * files it moved are listed nowhere, and the next export removes them
 * before anything else (removeUnlisted), so no reader counts them twice.
 */
export async function exportArchive(pool: pg.Pool, options: ExportOptions): Promise<ExportResult> {
  const before = await checkBefore(pool, options.before);
  await mkdir(options.dir, { recursive: true });
  const unlock = await lockArchive(options.dir);
  try {
    const partitions = await readPartitionCount(pool);
    const previous = (await readManifest(options.dir))?.manifest;
    if (previous) {
      if (before.getTime() < Date.parse(previous.before)) {
        throw new ArchiveError(`the archive in ${options.dir} holds events recorded before ${previous.before}; before ${before.toISOString()} may not be earlier`);
      }
      await checkArchiveOfStore(pool, options.dir, previous, partitions);
    }
    await removeUnlisted(options.dir, previous);
    const now = new Date();
    const manifest = previous ? { ...previous, ranges: [...previous.ranges], files: [...previous.files] } : emptyManifest(partitions, before, now);
    const added = await exportPartitions(pool, manifest, { ...options, before });
    manifest.before = before.toISOString();
    manifest.updatedAt = now.toISOString();
    manifest.files.sort((a, b) => a.partition - b.partition || a.firstPosition - b.firstPosition);
    const manifestSha256 = await writeManifest(options.dir, manifest);
    return { manifest, manifestSha256, added, events: added.reduce((n, f) => n + f.events, 0) };
  } finally {
    await unlock();
  }
}

/** `before` as the store's clock sees it: only the past can be archived. */
async function checkBefore(pool: pg.Pool, before: Date): Promise<Date> {
  if (!(before instanceof Date) || Number.isNaN(before.getTime())) throw new ArchiveError('before must be a valid time');
  const { rows } = await pool.query<{ now: Date }>('select now() as now');
  if (before > rows[0]!.now) {
    throw new ArchiveError(`before ${before.toISOString()} is in the future (the database's clock says ${rows[0]!.now.toISOString()}): only past events are archived`);
  }
  return before;
}

async function exportPartitions(pool: pg.Pool, manifest: ArchiveManifest, options: ExportOptions): Promise<ArchiveFile[]> {
  await resetStaging(options.dir);
  const stage = await openDuckDB(':memory:', { threads: 1, memoryMb: 256 });
  const added: ArchiveFile[] = [];
  let events = 0;
  try {
    for (const range of manifest.ranges) {
      const result = await exportPartition(pool, stage, options, range, (n, files) => {
        options.onProgress?.({ partition: range.partition, partitions: manifest.partitions, events: events + n, files: added.length + files });
      });
      manifest.ranges[range.partition] = result.range;
      added.push(...result.files);
      manifest.files.push(...result.files);
      events += result.files.reduce((n, f) => n + f.events, 0);
    }
    await publishStaged(options.dir, added);
  } finally {
    stage.close();
    await removeStaging(options.dir);
  }
  return added;
}

async function exportPartition(
  pool: pg.Pool,
  stage: DuckDB,
  options: ExportOptions,
  range: ArchivedPartition,
  progress: (events: number, files: number) => void,
): Promise<{ range: ArchivedPartition; files: ArchiveFile[] }> {
  const batchEvents = options.batchEvents ?? 50_000;
  const maxFileEvents = options.maxFileEvents ?? 1_000_000;
  const beforeMicros = BigInt(options.before.getTime()) * 1000n;
  const files: ArchiveFile[] = [];
  let file: ArchiveFileWriter | undefined;
  let last: ArchivedRow | undefined;
  let events = 0;
  for (let done = false; !done;) {
    const rows = await readStoreRows(pool, range.partition, last?.position ?? range.lastPosition, Number.MAX_SAFE_INTEGER, batchEvents);
    const cut = rows.findIndex((row) => row.recordedAt >= beforeMicros);
    const taken = cut === -1 ? rows : rows.slice(0, cut);
    done = cut !== -1 || rows.length < batchEvents;
    for (const run of runsByFile(taken, file, maxFileEvents)) {
      if (run.newFile) {
        if (file) files.push(await file.finish());
        file = new ArchiveFileWriter(stage, stagingDir(options.dir), range.partition, utcMonthOf(run.rows[0]!.recordedAt));
      }
      await file!.append(run.rows);
    }
    if (taken.length > 0) last = taken[taken.length - 1];
    events += taken.length;
    progress(events, files.length);
  }
  if (file) files.push(await file.finish());
  const extended = last ? { partition: range.partition, lastPosition: last.position, lastEventId: last.eventId } : range;
  return { range: extended, files };
}

/**
 * Cuts a batch into runs, each for one file: a run starts a new file at an
 * event of a later month than the open file's, or when the file is full.
 */
function runsByFile(rows: ArchivedRow[], open: ArchiveFileWriter | undefined, maxFileEvents: number): Array<{ newFile: boolean; rows: ArchivedRow[] }> {
  const runs: Array<{ newFile: boolean; rows: ArchivedRow[] }> = [];
  let month = open?.month;
  let inFile = open?.events ?? 0;
  for (const row of rows) {
    const rowMonth = utcMonthOf(row.recordedAt);
    if (month === undefined || rowMonth > month || inFile >= maxFileEvents) {
      runs.push({ newFile: true, rows: [] });
      month = rowMonth;
      inFile = 0;
    } else if (runs.length === 0) {
      runs.push({ newFile: false, rows: [] });
    }
    runs[runs.length - 1]!.rows.push(row);
    inFile++;
  }
  return runs;
}
