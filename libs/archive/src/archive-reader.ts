import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { StoredEventRow } from '@app/event-store';
import { ArchiveError } from './archive-error.js';
import { openDuckDB, parquetFiles, type DuckDB } from './duckdb.js';
import { filesOf, MANIFEST_FILE, requireManifest, type ArchiveManifest } from './manifest.js';
import { formatMicros } from './timestamps.js';

/** Archive directories kept open at once; the least recently used one beyond this is closed. */
const MAX_OPEN_ARCHIVES = 4;

/**
 * One archive directory opened for reading: its manifest, read again when
 * the file changes (an export extended it), and one DuckDB connection, used
 * by one query at a time.
 */
class ArchiveReader {
  private manifest?: { stamp: string; value: ArchiveManifest };
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(readonly dir: string, private readonly duck: DuckDB) {}

  static async open(dir: string): Promise<ArchiveReader> {
    return new ArchiveReader(dir, await openDuckDB(':memory:', { threads: 1, memoryMb: 256 }));
  }

  private async currentManifest(): Promise<ArchiveManifest> {
    const info = await stat(join(this.dir, MANIFEST_FILE)).catch(() => undefined);
    const stamp = info ? `${info.mtimeMs}:${info.size}:${info.ino}` : 'none';
    if (this.manifest?.stamp !== stamp) this.manifest = { stamp, value: (await requireManifest(this.dir)).manifest };
    return this.manifest.value;
  }

  read(partition: number, afterPosition: number, limit: number): Promise<StoredEventRow[]> {
    const next = this.queue.then(() => this.query(partition, afterPosition, limit));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Closes its DuckDB once the queries queued before have finished. */
  closeWhenIdle(): Promise<void> {
    return this.queue.then(() => this.duck.close());
  }

  private async query(partition: number, afterPosition: number, limit: number): Promise<StoredEventRow[]> {
    const manifest = await this.currentManifest();
    if (partition >= manifest.partitions) throw new ArchiveError(`the archive in ${this.dir} has no partition ${partition}`);
    const through = afterPosition + limit;
    // Files are gapless runs of positions: these are the ones holding (afterPosition, through].
    const files = filesOf(manifest, partition).filter((f) => f.lastPosition > afterPosition && f.firstPosition <= through);
    if (files.length === 0) return [];
    const reader = await this.duck.connection.runAndReadAll(
      `select position, epoch_us(recorded_at), payload::varchar from ${parquetFiles(files.map((f) => join(this.dir, f.path)))}
       where position > ${afterPosition} and position <= ${through} order by position`,
    );
    return reader.getRows().map(([position, recordedAt, payload]) => ({
      position: Number(position as bigint),
      recordedAt: formatMicros(recordedAt as bigint),
      payloadJson: payload as string,
    }));
  }
}

const readers = new Map<string, Promise<ArchiveReader>>();

function readerOf(dir: string): Promise<ArchiveReader> {
  const key = resolve(dir);
  let reader = readers.get(key);
  if (reader) {
    // Most recently used last: Map keeps insertion order.
    readers.delete(key);
  } else {
    reader = ArchiveReader.open(key);
    reader.catch(() => readers.delete(key));
  }
  readers.set(key, reader);
  while (readers.size > MAX_OPEN_ARCHIVES) {
    const [oldest, evicted] = readers.entries().next().value as [string, Promise<ArchiveReader>];
    readers.delete(oldest);
    void evicted.then((r) => r.closeWhenIdle(), () => undefined);
  }
  return reader;
}

/**
 * The archived events of a partition after a position, in position order, at
 * most `limit`: readPartition's contract (libs/event-store), read from the
 * archive's Parquet files, with recordedAt and payloadJson exactly as
 * readPartition gives them. Empty past the archive's range.
 */
export async function readArchivedPartition(dir: string, partition: number, afterPosition: number, limit: number): Promise<StoredEventRow[]> {
  for (const [name, value] of [['partition', partition], ['afterPosition', afterPosition]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return (await readerOf(dir)).read(partition, afterPosition, limit);
}

/** The last position of a partition the archive holds (it holds 1 to that), 0 when none. */
export function archivedRange(manifest: ArchiveManifest, partition: number): number;
export function archivedRange(dir: string, partition: number): Promise<number>;
export function archivedRange(source: ArchiveManifest | string, partition: number): number | Promise<number> {
  if (typeof source !== 'string') return source.ranges[partition]?.lastPosition ?? 0;
  return requireManifest(source).then(({ manifest }) => archivedRange(manifest, partition));
}

/** Closes every archive opened for reading (a process's shutdown, a test's end). */
export async function closeArchiveReaders(): Promise<void> {
  const open = [...readers.values()];
  readers.clear();
  for (const reader of await Promise.allSettled(open)) {
    if (reader.status === 'fulfilled') await reader.value.closeWhenIdle();
  }
}
