import type pg from 'pg';
import { readPartitionCount } from '@app/event-store';
import { CheckpointMovedError, readCheckpoint, readPartitionProgress } from './checkpoints.js';
import type { BulkFold, ProjectionDefinition, VersionRuntime, VersionTarget } from './definition.js';
import { DEFAULT_MAX_LAG_SECONDS, isCaughtUp, measureLag, type VersionLag } from './promotion.js';
import { advanceStatus, findVersion, installVersion, type ProjectionVersion } from './registry.js';
import type { SqlClient } from './sql-client.js';
import { readStoredEvents, type EventSource } from './event-source.js';

export interface RebuildProgress {
  /** Events applied by this run so far. */
  done: number;
  /** Events that were waiting when this run started (grows while ingest continues). */
  total: number;
  partitionsDone: number;
  partitions: number;
  phase: 'bulk' | 'keys' | 'catch-up';
}

export interface RebuildOptions {
  version: number;
  codeRevision: string;
  /** Partitions folded side by side: one PostgreSQL backend each (default 2, the cores of the build machines). */
  concurrency?: number;
  /** Events of a partition folded per transaction (default 2,000,000; 20,000 without a set-based fold): progress, and what an interruption loses, come in these steps. */
  chunkEvents?: number;
  /** Where events are read from when they are not folded inside PostgreSQL (default: the store). */
  events?: EventSource;
  /** After the bulk pass, catch up from the store until every partition is within this many events. */
  handOverLagEvents?: number;
  onProgress?: (progress: RebuildProgress) => void;
  /** Checked between chunks: a clean stop (Ctrl-C) leaves committed checkpoints to resume from. */
  shouldStop?: () => boolean;
}

export interface RebuildResult {
  version: ProjectionVersion;
  events: number;
  seconds: number;
  stopped: boolean;
}

export class RebuildRefusedError extends Error {
  override readonly name = 'RebuildRefusedError';
}

/**
 * Builds a version of a projection from position zero by reading the event
 * store (not JetStream, whose retention is finite), partition by partition,
 * each chunk committed with its checkpoint: folded inside PostgreSQL where the
 * definition has a set-based fold (a fresh version's tables then get their
 * keys after every partition's first chunk, built from the rows just
 * written), otherwise read and applied with the definition's runtime.
 * Interrupted in any way, a rerun resumes from the checkpoints and ends with
 * exactly the tables an uninterrupted run builds. When every partition is
 * within `handOverLagEvents` of the store, the version is marked `catching_up`
 * and running projectors follow it from JetStream.
 */
export async function rebuildVersion(pool: pg.Pool, definition: ProjectionDefinition, options: RebuildOptions): Promise<RebuildResult> {
  const projection = definition.name;
  if (!definition.versions().includes(options.version)) {
    throw new RebuildRefusedError(`${projection} has no version ${options.version} (known: ${definition.versions().join(', ')})`);
  }
  const partitions = await readPartitionCount(pool);
  let version = await findVersion(pool, projection, options.version);
  if (version && version.status !== 'building') {
    throw new RebuildRefusedError(`${projection} v${options.version} is ${version.status}, not building: nothing to rebuild (drop it first to build it again)`);
  }
  const bulk = definition.bulkFold;
  if (!version) {
    const client = await pool.connect();
    try {
      version = await installVersion(client, definition, {
        version: options.version, partitions, codeRevision: options.codeRevision, deferKeys: bulk !== undefined,
      });
    } finally {
      client.release();
    }
  }
  const target: VersionTarget = { projection, version: version.version, schemaName: version.schemaName, engine: version.engine };
  const started = performance.now();
  const progress: RebuildProgress = { done: 0, total: 0, partitionsDone: 0, partitions, phase: 'bulk' };
  const report = () => options.onProgress?.({ ...progress });
  const stop = () => options.shouldStop?.() ?? false;
  const concurrency = options.concurrency ?? 2;
  const chunkEvents = options.chunkEvents ?? (bulk ? 2_000_000 : 20_000);
  const applied = (n: number) => { progress.done += n; report(); };

  /** Runs `work` for every partition with events missing, largest first, `concurrency` at a time. */
  const eachPartition = async (phase: RebuildProgress['phase'], work: (partition: number) => Promise<void>): Promise<void> => {
    progress.phase = phase;
    progress.partitionsDone = 0;
    const lags = await lagByPartition(pool, target);
    progress.total = progress.done + [...lags.values()].reduce((a, b) => a + b, 0);
    const queue = [...lags.entries()].filter(([, lag]) => lag > 0).sort((a, b) => b[1] - a[1]).map(([p]) => p);
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let p = queue.shift(); p !== undefined && !stop(); p = queue.shift()) {
        await work(p);
        progress.partitionsDone++;
        report();
      }
    }));
  };
  const chunks = { chunkEvents, applied, stop };
  const events = options.events ?? readStoredEvents(pool);
  const runtime = definition.open(target, { cacheBytes: 0 });
  // Positions the hot store no longer holds (the cold archive's removed ranges): replayed through `events`.
  const removed = new Map<number, number>();
  for (let p = 0; p < partitions; p++) removed.set(p, (await events.removedThrough?.(p)) ?? 0);
  const fold = async (partition: number, first: boolean) => {
    if (!bulk) return replayPartition(pool, runtime, events, target, partition, chunks);
    const archived = removed.get(partition) ?? 0;
    if (archived > 0) await replayPartition(pool, runtime, events, target, partition, { ...chunks, until: archived });
    if (stop()) return;
    return foldPartition(pool, bulk, target, partition, {
      ...chunks, first, archived,
      // First chunks build their partition's keys when the read model's partitions are the store's.
      buildKeys: first && bulk.keysPerPartition(partitions),
    });
  };

  // 1. The first chunk of every partition still at zero: plain inserts into tables without keys
  //    (not when some positions come from the archive: replaying them adds to rows, which needs the keys).
  const fresh = bulk !== undefined && ![...removed.values()].some((n) => n > 0) && !(await bulk.hasKeys(pool, target));
  if (fresh) await eachPartition('bulk', (p) => fold(p, true));
  if (!stop()) {
    // 2. The keys the fresh tables were created without (adding to rows needs them).
    if (bulk) {
      progress.phase = 'keys';
      report();
      await withClients(pool, concurrency, (clients) => bulk.addKeys(clients, target));
    }
    // 3. The rest of each partition, then what arrived meanwhile, until within hand-over distance.
    for (let pass = 0; pass < 20 && !stop(); pass++) {
      await eachPartition(pass === 0 ? 'bulk' : 'catch-up', (p) => fold(p, false));
      const lags = await lagByPartition(pool, target);
      if (Math.max(0, ...lags.values()) <= (options.handOverLagEvents ?? 1000)) break;
    }
  }
  const stopped = stop();
  if (!stopped) await advanceStatus(pool, projection, target.version, 'building', 'catching_up');
  const finished = await findVersion(pool, projection, target.version);
  return { version: finished ?? version, events: progress.done, seconds: (performance.now() - started) / 1000, stopped };
}

interface ChunkOptions {
  chunkEvents: number;
  applied: (events: number) => void;
  stop: () => boolean;
}

/** The set-based fold reads the store's tables: a partition's positions up to `archived` must have been replayed first. */
class ArchivedPositionsError extends Error {
  override readonly name = 'ArchivedPositionsError';
}

/**
 * Folds a partition chunk after chunk from its checkpoint up to the store's
 * head (as of each chunk), or until asked to stop; with `first`, only its
 * first chunk, and only if its checkpoint is still zero. When someone else
 * moved the checkpoint (another rebuild), it continues from where that is.
 */
async function foldPartition(
  pool: pg.Pool,
  bulk: BulkFold,
  target: VersionTarget,
  partition: number,
  options: ChunkOptions & { first: boolean; buildKeys: boolean; archived: number },
): Promise<void> {
  const client = await pool.connect();
  try {
    while (!options.stop()) {
      const from = await readCheckpoint(client, target.projection, target.version, partition);
      if (options.first && from !== 0) return;
      if (from < options.archived) {
        throw new ArchivedPositionsError(`partition ${partition}: positions ${from + 1}..${options.archived} are in the cold archive, not in the store's tables`);
      }
      try {
        const { events } = await bulk.foldChunk(client, target, partition, { from, maxEvents: options.chunkEvents, buildKeys: options.buildKeys });
        options.applied(events);
        if (options.first || events < options.chunkEvents) return;
      } catch (error) {
        if (!(error instanceof CheckpointMovedError)) throw error;
      }
    }
  } finally {
    client.release();
  }
}

/**
 * A partition read chunk after chunk from `events` and applied with the
 * runtime, as a projector would: to the store's head, or through `until`.
 */
async function replayPartition(
  pool: pg.Pool,
  runtime: VersionRuntime,
  events: EventSource,
  target: VersionTarget,
  partition: number,
  options: ChunkOptions & { until?: number },
): Promise<void> {
  const client = await pool.connect();
  try {
    while (!options.stop()) {
      const from = await readCheckpoint(client, target.projection, target.version, partition);
      const room = options.until === undefined ? options.chunkEvents : Math.min(options.chunkEvents, options.until - from);
      if (room <= 0) return;
      const chunk = await events.read(partition, from, room);
      if (chunk.length === 0) return;
      try {
        const to = await runtime.apply(client, partition, from, chunk);
        options.applied(to - from);
      } catch (error) {
        if (!(error instanceof CheckpointMovedError)) throw error;
      }
      if (chunk.length < room) return;
    }
  } finally {
    client.release();
  }
}

async function withClients<T>(pool: pg.Pool, n: number, work: (clients: pg.PoolClient[]) => Promise<T>): Promise<T> {
  const clients = await Promise.all(Array.from({ length: n }, () => pool.connect()));
  try {
    return await work(clients);
  } finally {
    for (const c of clients) c.release();
  }
}

/** Events each partition still lacks, by partition. */
async function lagByPartition(pool: pg.Pool, target: VersionTarget): Promise<Map<number, number>> {
  const progress = await readPartitionProgress(pool, target.projection, target.version);
  return new Map(progress.map((p) => [p.partition, Math.max(0, p.head - p.checkpoint)]));
}

export interface CatchUpProgress {
  lag: VersionLag;
  /** Projector instances following the version now (members with an unexpired heartbeat). */
  followers: number;
  /** Seconds waited so far. */
  seconds: number;
}

export interface CatchUpOptions {
  projection: string;
  version: number;
  /** Promote's limit (default DEFAULT_MAX_LAG_SECONDS): the wait ends when promote would accept the version. */
  maxLagSeconds?: number;
  timeoutSeconds: number;
  /**
   * How long running projectors may take to start following the version
   * (default 15 s): they look for `catching_up` versions every 2 s, then
   * start a consumer per partition before their first heartbeat.
   */
  followerGraceSeconds?: number;
  /** Between measurements (default 1,000 ms). */
  pollMs?: number;
  onProgress?: (progress: CatchUpProgress) => void;
  /** Checked at least every 100 ms; the wait ends at once, nothing to undo. */
  shouldStop?: () => boolean;
}

export interface CatchUpResult {
  /**
   * `no-projector`: no projector process follows the version (none runs, or
   * none that follows it appeared within the grace period), so waiting could
   * not end; the version catches up once one runs.
   */
  outcome: 'caught-up' | 'no-projector' | 'timed-out' | 'stopped';
  lag: VersionLag;
  seconds: number;
  /** Projector instances following any version of the projection at the last look (not looked for when caught up at once: 0). */
  projectorsRunning: number;
}

/**
 * Projector instances following `version` and following any version of the
 * projection, as their heartbeats in projections.members say (each renews
 * its row every lease tick; a dead one's row expires after the lease).
 */
export async function countFollowers(client: SqlClient, projection: string, version: number): Promise<{ version: number; projection: number }> {
  const { rows } = await client.query<{ following: number; running: number }>(
    `select count(*) filter (where version = $2)::int as following, count(*)::int as running
     from projections.members where projection = $1 and expires_at > now()`,
    [projection, version],
  );
  return { version: Number(rows[0].following), projection: Number(rows[0].running) };
}

/**
 * After a rebuild hands a version over, waits until the projectors following
 * it from JetStream have caught up by promote's rule (isCaughtUp), so that
 * the operator can promote at once. Measures once per `pollMs`; gives up
 * early when no projector follows the version, since nothing else moves its
 * checkpoints.
 */
export async function waitForCatchUp(client: SqlClient, options: CatchUpOptions): Promise<CatchUpResult> {
  const maxLag = options.maxLagSeconds ?? DEFAULT_MAX_LAG_SECONDS;
  const graceMs = (options.followerGraceSeconds ?? 15) * 1000;
  const pollMs = options.pollMs ?? 1000;
  const stop = () => options.shouldStop?.() ?? false;
  const started = performance.now();
  const elapsedMs = () => performance.now() - started;
  for (;;) {
    const lag = await measureLag(client, options.projection, options.version);
    if (isCaughtUp(lag, maxLag)) return { outcome: 'caught-up', lag, seconds: elapsedMs() / 1000, projectorsRunning: 0 };
    const followers = await countFollowers(client, options.projection, options.version);
    const result = (outcome: CatchUpResult['outcome']): CatchUpResult =>
      ({ outcome, lag, seconds: elapsedMs() / 1000, projectorsRunning: followers.projection });
    options.onProgress?.({ lag, followers: followers.version, seconds: elapsedMs() / 1000 });
    if (stop()) return result('stopped');
    if (followers.version === 0 && (followers.projection === 0 || elapsedMs() >= graceMs)) return result('no-projector');
    if (elapsedMs() >= options.timeoutSeconds * 1000) return result('timed-out');
    const wake = performance.now() + pollMs;
    while (!stop() && performance.now() < wake) await new Promise((r) => setTimeout(r, Math.min(100, wake - performance.now())));
    if (stop()) return result('stopped');
  }
}
