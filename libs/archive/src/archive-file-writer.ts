import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { timestampTZValue, uuidValue, type DuckDBAppender } from '@duckdb/node-api';
import type { ArchivedRow } from './archived-row.js';
import { parquetFiles, sqlText, type DuckDB } from './duckdb.js';
import { partitionFilePath, sha256OfFile, type ArchiveFile } from './manifest.js';
import { formatMicros } from './timestamps.js';

/** Rows per Parquet row group: a reader after a position decompresses about this many. */
const ROW_GROUP_SIZE = 50_000;

const COLUMNS = `partition smallint, position bigint, event_id uuid, merchant_id varchar, event_type varchar,
  occurred_at timestamptz, recorded_at timestamptz, payload json, body_hash blob, producer_app_id uuid, request_id varchar`;

/**
 * One archive file being built. Each batch of rows goes through a DuckDB
 * table into a chunk file of its own in the staging directory, and the
 * chunks are then merged, in order, into one ZSTD-compressed Parquet file,
 * staged beside them until the export moves it into the archive. Rows appended
 * to one DuckDB table stay in memory whatever its memory limit (1,000,000
 * events took about 1 GB), while a chunk at a time keeps the export to its
 * batch.
 */
export class ArchiveFileWriter {
  private readonly chunks: string[] = [];
  private firstPosition = 0;
  private lastPosition = 0;
  private minRecordedAt = 0n;
  private maxRecordedAt = 0n;
  events = 0;

  constructor(
    private readonly duck: DuckDB,
    private readonly staging: string,
    readonly partition: number,
    readonly month: string,
  ) {}

  /** Appends rows, which must follow the last one without a gap. */
  async append(rows: ArchivedRow[]): Promise<void> {
    const { connection } = this.duck;
    await connection.run(`create or replace table archive_batch (${COLUMNS})`);
    const appender = await connection.createAppender('archive_batch');
    for (const row of rows) {
      this.track(row);
      appendRow(appender, this.partition, row);
    }
    appender.closeSync();
    const chunk = join(this.staging, `chunk-${this.chunks.length}.parquet`);
    await connection.run(`copy archive_batch to ${sqlText(chunk)} (format parquet, compression snappy)`);
    await connection.run('drop table archive_batch');
    this.chunks.push(chunk);
  }

  /** Writes the file into the staging directory, at its path there: publishStaged moves it into the archive. */
  async finish(): Promise<ArchiveFile> {
    const path = partitionFilePath(this.partition, this.month, this.firstPosition, this.lastPosition);
    const target = join(this.staging, path);
    await mkdir(dirname(target), { recursive: true });
    // Insertion order is kept (DuckDB's default), so the file is in position order without a sort.
    await this.duck.connection.run(
      `copy (select * from ${parquetFiles(this.chunks)}) to ${sqlText(target)}
       (format parquet, compression zstd, row_group_size ${ROW_GROUP_SIZE})`,
    );
    await Promise.all(this.chunks.map((chunk) => rm(chunk, { force: true })));
    this.chunks.length = 0;
    return {
      path,
      partition: this.partition,
      firstPosition: this.firstPosition,
      lastPosition: this.lastPosition,
      events: this.events,
      minRecordedAt: formatMicros(this.minRecordedAt),
      maxRecordedAt: formatMicros(this.maxRecordedAt),
      bytes: (await stat(target)).size,
      sha256: await sha256OfFile(target),
    };
  }

  private track(row: ArchivedRow): void {
    if (this.events === 0) {
      this.firstPosition = row.position;
      this.minRecordedAt = this.maxRecordedAt = row.recordedAt;
    } else if (row.position !== this.lastPosition + 1) {
      throw new Error(`partition ${this.partition}: position ${row.position} follows ${this.lastPosition}`);
    }
    this.lastPosition = row.position;
    this.events++;
    if (row.recordedAt < this.minRecordedAt) this.minRecordedAt = row.recordedAt;
    if (row.recordedAt > this.maxRecordedAt) this.maxRecordedAt = row.recordedAt;
  }
}

function appendRow(appender: DuckDBAppender, partition: number, row: ArchivedRow): void {
  appender.appendSmallInt(partition);
  appender.appendBigInt(BigInt(row.position));
  appender.appendUUID(uuidValue(uuidBits(row.eventId)));
  appender.appendVarchar(row.merchantId);
  appender.appendVarchar(row.eventType);
  appender.appendTimestampTZ(timestampTZValue(row.occurredAt));
  appender.appendTimestampTZ(timestampTZValue(row.recordedAt));
  appender.appendVarchar(row.payload);
  appender.appendBlob(Buffer.from(row.bodyHash, 'hex'));
  if (row.producerAppId === null) appender.appendNull();
  else appender.appendUUID(uuidValue(uuidBits(row.producerAppId)));
  if (row.requestId === null) appender.appendNull();
  else appender.appendVarchar(row.requestId);
  appender.endRow();
}

function uuidBits(uuid: string): bigint {
  return BigInt(`0x${uuid.replaceAll('-', '')}`);
}

/**
 * Where an export keeps its chunks and finished files until the end: in the
 * archive's directory, so that moving a file into place is a rename.
 */
export function stagingDir(dir: string): string {
  return join(dir, '.export-staging');
}

/** A fresh, empty staging directory (a crashed export's chunks are of no use). */
export async function resetStaging(dir: string): Promise<void> {
  await rm(stagingDir(dir), { recursive: true, force: true });
  await mkdir(stagingDir(dir), { recursive: true });
}

export async function removeStaging(dir: string): Promise<void> {
  await rm(stagingDir(dir), { recursive: true, force: true });
}

/** Moves finished files from the staging directory to their place in the archive. */
export async function publishStaged(dir: string, files: ArchiveFile[]): Promise<void> {
  for (const file of files) {
    await mkdir(dirname(join(dir, file.path)), { recursive: true });
    await rename(join(stagingDir(dir), file.path), join(dir, file.path));
  }
}
