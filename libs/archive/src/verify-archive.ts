import { join } from 'node:path';
import type pg from 'pg';
import type { DuckDBConnection } from '@duckdb/node-api';
import { readPartitionCount } from '@app/event-store';
import { ArchiveError } from './archive-error.js';
import { readFileRows, readStoreRows, ROW_FIELDS, type ArchivedRow } from './archived-row.js';
import { openDuckDB, parquetFiles } from './duckdb.js';
import { filesOf, requireManifest, sha256OfFile, type ArchiveFile } from './manifest.js';
import { formatMicros } from './timestamps.js';

export interface VerifyOptions {
  dir: string;
  onProgress?: (progress: { partition: number; partitions: number; files: number; events: number }) => void;
  /** Positions compared with the store at a time (default 50,000). */
  batchEvents?: number;
}

/** Something wrong with the archive, as precisely as known: the file, and the position where there is one. */
export interface VerifyProblem {
  partition: number;
  file?: string;
  position?: number;
  message: string;
}

export interface VerifyResult {
  files: number;
  events: number;
  problems: VerifyProblem[];
  /** Ranges recorded in event_store.archived_ranges as verified, now removable. */
  verified: Array<{ partition: number; firstPosition: number; lastPosition: number; events: number }>;
  /** Partitions with a problem: their not-yet-removed ranges are no longer marked verified. */
  withdrawn: number[];
}

/** At most this many problems are listed per file; a file with more gets one line saying how many. */
const PROBLEMS_PER_FILE = 20;

/**
 * Reads every file of the archive again and checks it against its manifest
 * (SHA-256, count, positions first..last without a gap or repeat) and, row
 * by row in batches, against the store: every column where the store still
 * holds the event, the event id and body hash (event_store.event_ids) where
 * it no longer does. A partition with no problem has its range recorded as
 * verified (event_store.record_verified_range, so it may be removed); one
 * with a problem has its unremoved range withdrawn, so it cannot be.
 */
export async function verifyArchive(pool: pg.Pool, options: VerifyOptions): Promise<VerifyResult> {
  const { manifest, sha256: manifestSha256 } = await requireManifest(options.dir);
  const partitions = await readPartitionCount(pool);
  if (manifest.partitions !== partitions) {
    throw new ArchiveError(`the archive in ${options.dir} has ${manifest.partitions} partitions, the store ${partitions}`);
  }
  const duck = await openDuckDB(':memory:', { threads: 1, memoryMb: 256 });
  const result: VerifyResult = { files: 0, events: 0, problems: [], verified: [], withdrawn: [] };
  try {
    for (const range of manifest.ranges) {
      const problems: VerifyProblem[] = [];
      for (const file of filesOf(manifest, range.partition)) {
        problems.push(...(await checkFile(pool, duck.connection, options, file)));
        result.files++;
        result.events += file.events;
        options.onProgress?.({ partition: range.partition, partitions, files: result.files, events: result.events });
      }
      result.problems.push(...problems);
      await recordOutcome(pool, range.partition, range.lastPosition, manifestSha256, problems, result);
    }
  } finally {
    duck.close();
  }
  return result;
}

async function recordOutcome(
  pool: pg.Pool, partition: number, lastPosition: number, manifestSha256: string, problems: VerifyProblem[], result: VerifyResult,
): Promise<void> {
  if (problems.length === 0) {
    try {
      const { rows } = await pool.query<{ r: { firstPosition: number | null; lastPosition: number | null; events: number } }>(
        'select event_store.record_verified_range($1, $2, $3) as r', [partition, lastPosition, manifestSha256],
      );
      const r = rows[0]!.r;
      if (r.firstPosition !== null) result.verified.push({ partition, firstPosition: r.firstPosition, lastPosition: r.lastPosition!, events: r.events });
      return;
    } catch (error) {
      // The store refused the range (it no longer holds it, or holds less than the archive): a problem like any other.
      if (!isStoreRefusal(error)) throw error;
      const problem = { partition, message: (error as Error).message };
      problems.push(problem);
      result.problems.push(problem);
    }
  }
  const { rows } = await pool.query<{ n: string }>('select event_store.withdraw_verified_range($1) as n', [partition]);
  if (Number(rows[0]!.n) > 0) result.withdrawn.push(partition);
}

function isStoreRefusal(error: unknown): boolean {
  return (error as { code?: string }).code === '22023';
}

async function checkFile(pool: pg.Pool, duck: DuckDBConnection, options: VerifyOptions, file: ArchiveFile): Promise<VerifyProblem[]> {
  const path = join(options.dir, file.path);
  const problems: VerifyProblem[] = [];
  let unlisted = 0;
  const report = (message: string, position?: number) => {
    if (problems.length < PROBLEMS_PER_FILE) problems.push({ partition: file.partition, file: file.path, position, message });
    else unlisted++;
  };
  const sha256 = await sha256OfFile(path).catch((error: NodeJS.ErrnoException) => {
    report(error.code === 'ENOENT' ? 'missing' : `cannot be read: ${error.message}`);
    return undefined;
  });
  if (sha256 === undefined) return problems;
  if (sha256 !== file.sha256) report(`SHA-256 is ${sha256}, the manifest says ${file.sha256}`);
  try {
    await checkShape(duck, path, file, report);
    await compareWithStore(pool, duck, path, file, options.batchEvents ?? 50_000, report);
  } catch (error) {
    report(`cannot be read as the archive's Parquet: ${(error as Error).message}`);
  }
  if (unlisted > 0) problems.push({ partition: file.partition, file: file.path, message: `and ${unlisted} more problems` });
  return problems;
}

/** Count, partition, and positions exactly first..last, each once; the recorded_at bounds. */
async function checkShape(duck: DuckDBConnection, path: string, file: ArchiveFile, report: (message: string, position?: number) => void): Promise<void> {
  const source = parquetFiles([path]);
  const reader = await duck.runAndReadAll(
    `select count(*), min(position), max(position), count(distinct position), count(*) filter (where partition <> ${file.partition}),
            epoch_us(min(recorded_at)), epoch_us(max(recorded_at)) from ${source}`,
  );
  const [count, min, max, distinct, strangers, minRecorded, maxRecorded] = reader.getRows()[0]!.map((v) => (v === null ? null : BigInt(v as bigint)));
  if (Number(count) !== file.events) report(`holds ${count} events, the manifest says ${file.events}`);
  if (Number(min) !== file.firstPosition || Number(max) !== file.lastPosition) {
    report(`holds positions ${min} to ${max}, the manifest says ${file.firstPosition} to ${file.lastPosition}`);
  }
  if (Number(strangers) > 0) report(`${strangers} events of another partition`);
  if (minRecorded !== null && formatMicros(minRecorded) !== file.minRecordedAt) report(`earliest recorded_at is ${formatMicros(minRecorded)}, the manifest says ${file.minRecordedAt}`);
  if (maxRecorded !== null && formatMicros(maxRecorded) !== file.maxRecordedAt) report(`latest recorded_at is ${formatMicros(maxRecorded)}, the manifest says ${file.maxRecordedAt}`);
  if (distinct !== count || Number(count) !== file.lastPosition - file.firstPosition + 1) {
    const breaks = await duck.runAndReadAll(
      `select position, previous from (select position, lag(position) over (order by position) as previous from ${source})
       where (previous is null and position <> ${file.firstPosition}) or previous <> position - 1
       order by position limit ${PROBLEMS_PER_FILE}`,
    );
    for (const [position, previous] of breaks.getRows()) {
      const at = Number(position as bigint);
      report(previous === null ? `starts at position ${at}` : previous === position ? `repeats position ${at}` : `has no position ${Number(previous as bigint) + 1} (next is ${at})`, at);
    }
  }
}

/** Row by row against the store, a batch of positions at a time. */
async function compareWithStore(
  pool: pg.Pool, duck: DuckDBConnection, path: string, file: ArchiveFile, batchEvents: number, report: (message: string, position?: number) => void,
): Promise<void> {
  for (let lo = file.firstPosition; lo <= file.lastPosition; lo += batchEvents) {
    const hi = Math.min(lo + batchEvents - 1, file.lastPosition);
    const archived = await readFileRows(duck, [path], lo, hi);
    const stored = new Map((await readStoreRows(pool, file.partition, lo - 1, hi, batchEvents)).map((row) => [row.position, row]));
    const absent = archived.filter((row) => !stored.has(row.position));
    const known = await knownBodyHashes(pool, absent.map((row) => row.eventId));
    for (const row of archived) {
      const original = stored.get(row.position);
      if (original) {
        const differing = ROW_FIELDS.filter((field) => row[field] !== original[field]);
        if (differing.length > 0) report(`differs from the store in ${differing.join(', ')}`, row.position);
      } else if (known.get(row.eventId) !== row.bodyHash) {
        report(known.has(row.eventId) ? `event ${row.eventId} has another body hash in the store` : `event ${row.eventId} is unknown to the store`, row.position);
      }
    }
  }
}

/** Body hashes of event ids, from event_store.event_ids, which keeps archived events' ids. */
async function knownBodyHashes(pool: pg.Pool, eventIds: string[]): Promise<Map<string, string>> {
  if (eventIds.length === 0) return new Map();
  const { rows } = await pool.query<{ event_id: string; body_hash: string }>(
    `select event_id::text, encode(body_hash, 'hex') as body_hash from event_store.event_ids where event_id = any($1::uuid[])`, [eventIds],
  );
  return new Map(rows.map((r) => [r.event_id, r.body_hash]));
}
