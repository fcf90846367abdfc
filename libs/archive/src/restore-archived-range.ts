import { join } from 'node:path';
import type pg from 'pg';
import { ArchiveError } from './archive-error.js';
import { readFileRows, type ArchivedRow } from './archived-row.js';
import { openDuckDB } from './duckdb.js';
import { filesOf, requireManifest, sha256OfFile, type ArchiveFile } from './manifest.js';
import { asArchiveError, callRangeFunction, type ArchivedRangeChange } from './archive-functions.js';
import { formatMicros } from './timestamps.js';

export interface RestoreOptions {
  dir: string;
  partition: number;
  onProgress?: (progress: { partition: number; events: number; total: number }) => void;
  /** Rows sent to the database per call (default 10,000). */
  batchEvents?: number;
}

/**
 * Brings every removed range of a partition back into the hot store from the
 * archive's files, whose checksums are checked first. One transaction: the
 * rows are staged (event_store.restore_archived_rows), then
 * event_store.finish_restore moves them into the store only if they are
 * exactly the rows removed (by the digest taken at removal), and audits it.
 */
export async function restoreArchivedRange(pool: pg.Pool, options: RestoreOptions): Promise<ArchivedRangeChange> {
  const { dir, partition } = options;
  const { manifest } = await requireManifest(dir);
  const removed = await removedRange(pool, partition);
  if (manifest.ranges[partition] === undefined || manifest.ranges[partition]!.lastPosition < removed.last) {
    throw new ArchiveError(`partition ${partition}: positions ${removed.first} to ${removed.last} were removed, the archive in ${dir} holds 1 to ${manifest.ranges[partition]?.lastPosition ?? 0}`);
  }
  const files = filesOf(manifest, partition).filter((f) => f.lastPosition >= removed.first && f.firstPosition <= removed.last);
  await checkChecksums(dir, files);

  const duck = await openDuckDB(':memory:', { threads: 1, memoryMb: 256 });
  const client = await pool.connect();
  try {
    await client.query('begin');
    const batch = options.batchEvents ?? 10_000;
    for (let lo = removed.first; lo <= removed.last; lo += batch) {
      const hi = Math.min(lo + batch - 1, removed.last);
      const paths = files.filter((f) => f.lastPosition >= lo && f.firstPosition <= hi).map((f) => join(dir, f.path));
      const rows = await readFileRows(duck.connection, paths, lo, hi);
      await stageRows(client, partition, rows);
      options.onProgress?.({ partition, events: lo - removed.first + rows.length, total: removed.last - removed.first + 1 });
    }
    const restored = await callRangeFunction(client, 'select event_store.finish_restore($1) as r', [partition]);
    await client.query('commit');
    return restored;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
    duck.close();
  }
}

async function removedRange(pool: pg.Pool, partition: number): Promise<{ first: number; last: number }> {
  const { rows } = await pool.query<{ first: string | null; last: string | null }>(
    `select min(first_position) as first, max(last_position) as last from event_store.archived_ranges
     where partition = $1 and removed_at is not null`,
    [partition],
  ).catch((error: unknown) => {
    throw asArchiveError(error);
  });
  if (rows[0]!.first === null) throw new ArchiveError(`partition ${partition} has no range removed from the hot store`);
  return { first: Number(rows[0]!.first), last: Number(rows[0]!.last) };
}

async function checkChecksums(dir: string, files: ArchiveFile[]): Promise<void> {
  for (const file of files) {
    const sha256 = await sha256OfFile(join(dir, file.path)).catch((error: Error) => `unreadable (${error.message})`);
    if (sha256 !== file.sha256) throw new ArchiveError(`${join(dir, file.path)}: SHA-256 is ${sha256}, the manifest says ${file.sha256}; nothing restored`);
  }
}

async function stageRows(client: pg.PoolClient, partition: number, rows: ArchivedRow[]): Promise<void> {
  await client.query(
    `select event_store.restore_archived_rows($1, $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[],
                                              $8::jsonb[], $9::uuid[], $10::text[])`,
    [
      partition,
      rows.map((r) => r.position),
      rows.map((r) => r.eventId),
      rows.map((r) => r.merchantId),
      rows.map((r) => r.eventType),
      rows.map((r) => formatMicros(r.occurredAt)),
      rows.map((r) => formatMicros(r.recordedAt)),
      rows.map((r) => r.payload),
      rows.map((r) => r.producerAppId),
      rows.map((r) => r.requestId),
    ],
  ).catch((error: unknown) => {
    throw asArchiveError(error);
  });
}
