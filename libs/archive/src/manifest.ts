import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { ArchiveError } from './archive-error.js';

export const MANIFEST_FILE = 'manifest.json';
const FORMAT = 'payments-event-archive';
const VERSION = 1;

/** One Parquet file: a run of positions of one partition, gapless. */
export interface ArchiveFile {
  /** Relative to the archive directory, `/`-separated, e.g. `p03/2026-11_000000000001-000000050000.parquet`. */
  path: string;
  partition: number;
  firstPosition: number;
  lastPosition: number;
  events: number;
  /** Earliest and latest recorded_at in the file, RFC 3339 UTC with microseconds. */
  minRecordedAt: string;
  maxRecordedAt: string;
  bytes: number;
  sha256: string;
}

/** What the archive holds of a partition: positions 1 to lastPosition (0: none). */
export interface ArchivedPartition {
  partition: number;
  lastPosition: number;
  /** The event at lastPosition, by which a later export recognises the store the archive came from. */
  lastEventId: string | null;
}

export interface ArchiveManifest {
  format: typeof FORMAT;
  version: typeof VERSION;
  createdAt: string;
  updatedAt: string;
  /** Every archived event was recorded before this instant (ISO 8601). */
  before: string;
  /** The store's partition count. */
  partitions: number;
  ranges: ArchivedPartition[];
  files: ArchiveFile[];
}

/** A manifest as read from disk, with the SHA-256 of its bytes (what a verify records). */
export interface LoadedManifest {
  manifest: ArchiveManifest;
  sha256: string;
}

/**
 * File paths are made by partitionFilePath and nothing else is accepted, so a
 * manifest cannot point outside its directory.
 */
const FILE_PATH = /^p\d{2,3}\/\d{4}-\d{2}_\d{12}-\d{12}\.parquet$/;

export function partitionFilePath(partition: number, month: string, firstPosition: number, lastPosition: number): string {
  const position = (n: number) => String(n).padStart(12, '0');
  return `p${String(partition).padStart(2, '0')}/${month}_${position(firstPosition)}-${position(lastPosition)}.parquet`;
}

export function emptyManifest(partitions: number, before: Date, now: Date): ArchiveManifest {
  return {
    format: FORMAT,
    version: VERSION,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    before: before.toISOString(),
    partitions,
    ranges: Array.from({ length: partitions }, (_, partition) => ({ partition, lastPosition: 0, lastEventId: null })),
    files: [],
  };
}

/** The manifest in `dir`, or undefined when there is none; refuses one that does not hold together. */
export async function readManifest(dir: string): Promise<LoadedManifest | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, MANIFEST_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const where = join(dir, MANIFEST_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ArchiveError(`${where} is not valid JSON`);
  }
  return { manifest: checkManifest(parsed, where), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Like readManifest, but an archive without a manifest is an error. */
export async function requireManifest(dir: string): Promise<LoadedManifest> {
  const loaded = await readManifest(dir);
  if (!loaded) throw new ArchiveError(`${dir} holds no ${MANIFEST_FILE}: export an archive there first`);
  return loaded;
}

/**
 * Writes the manifest beside the old one and renames it into place, so a
 * reader (or a crash) sees the old manifest or the new one, never a mix.
 * Returns the SHA-256 of what it wrote.
 */
export async function writeManifest(dir: string, manifest: ArchiveManifest): Promise<string> {
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const temporary = join(dir, `${MANIFEST_FILE}.tmp-${process.pid}`);
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, join(dir, MANIFEST_FILE));
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Removes archive files that the manifest does not list: left by an export
 * that failed after moving them into place. Only names this archive writes
 * are considered, so nothing else in the directory is touched.
 */
export async function removeUnlisted(dir: string, manifest: ArchiveManifest | undefined): Promise<string[]> {
  const listed = new Set(manifest?.files.map((f) => f.path));
  const removed: string[] = [];
  for (const entry of await readdir(dir, { recursive: true })) {
    const path = entry.split(sep).join('/');
    if (!FILE_PATH.test(path) || listed.has(path)) continue;
    await rm(join(dir, entry));
    removed.push(path);
  }
  return removed;
}

/** The files of one partition, in position order. */
export function filesOf(manifest: ArchiveManifest, partition: number): ArchiveFile[] {
  return manifest.files.filter((f) => f.partition === partition).sort((a, b) => a.firstPosition - b.firstPosition);
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Checks what the rest of the code relies on: known format, one range per
 * partition, and each partition's files tiling exactly [1, lastPosition].
 */
function checkManifest(value: unknown, where: string): ArchiveManifest {
  const fail = (why: string): never => {
    throw new ArchiveError(`${where}: ${why}`);
  };
  const m = value as Partial<ArchiveManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== FORMAT) fail(`not a manifest of this archive format ("${FORMAT}")`);
  if (m!.version !== VERSION) fail(`format version ${String(m!.version)} is not known here (this code reads version ${VERSION})`);
  const partitions = m!.partitions;
  if (!isCount(partitions) || partitions < 1) fail('"partitions" must be a positive integer');
  if (typeof m!.before !== 'string' || Number.isNaN(Date.parse(m!.before))) fail('"before" must be an ISO 8601 time');
  if (!Array.isArray(m!.ranges) || m!.ranges.length !== partitions) fail(`"ranges" must list each of the ${partitions} partitions`);
  if (!Array.isArray(m!.files)) fail('"files" must be a list');
  m!.ranges!.forEach((range, p) => {
    if (range?.partition !== p || !isCount(range.lastPosition)) fail(`range ${p} must be {partition: ${p}, lastPosition: N}`);
  });
  for (const file of m!.files!) {
    if (typeof file?.path !== 'string' || !FILE_PATH.test(file.path)) fail(`file path ${JSON.stringify(file?.path)} is not one this archive writes`);
    if (!isCount(file.partition) || file.partition >= partitions!) fail(`${file.path}: partition ${file.partition} does not exist`);
    if (!isCount(file.firstPosition) || !isCount(file.lastPosition) || file.events !== file.lastPosition - file.firstPosition + 1 || file.events < 1) {
      fail(`${file.path}: positions ${file.firstPosition} to ${file.lastPosition} do not make ${file.events} events`);
    }
    if (!/^[0-9a-f]{64}$/.test(String(file.sha256))) fail(`${file.path}: "sha256" must be 64 hex digits`);
  }
  for (const range of m!.ranges!) {
    let next = 1;
    for (const file of filesOf(m as ArchiveManifest, range.partition)) {
      if (file.firstPosition !== next) fail(`partition ${range.partition}: ${file.path} starts at position ${file.firstPosition}, expected ${next}`);
      next = file.lastPosition + 1;
    }
    if (next - 1 !== range.lastPosition) fail(`partition ${range.partition}: the files end at position ${next - 1}, the range at ${range.lastPosition}`);
  }
  return m as ArchiveManifest;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
