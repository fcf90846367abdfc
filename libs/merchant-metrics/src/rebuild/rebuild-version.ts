import type pg from 'pg';
import { readPartitionCount } from '@app/event-store';
import type { ProjectionTarget } from '../projection/apply-events.js';
import { merchantMetricsLogic, PROJECTION_NAME } from '../projection/merchant-metrics.projection.js';
import { CheckpointMovedError, readCheckpoint, readPartitionProgress } from '../registry/checkpoints.js';
import { advanceStatus, findVersion, installVersion, type ProjectionVersion } from '../registry/projection-registry.js';
import { addMissingReadModelKeys, hasReadModelKeys, readModelPartitionsMatch } from '../schema/read-model-tables.js';
import { bulkFoldPartition } from './bulk-fold.js';

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
  /** Events of a partition folded per transaction (default 2,000,000): progress, and what an interruption loses, come in these steps. */
  chunkEvents?: number;
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
 * Builds a version of merchant-metrics from position zero by reading the event
 * store (not JetStream, whose retention is finite), partition by partition,
 * each chunk of a partition folded inside PostgreSQL and committed with its
 * checkpoint (bulk-fold.ts). A fresh version's tables get their keys after
 * every partition's first chunk, built from the rows just written.
 * Interrupted in any way, a rerun resumes from the checkpoints and ends with
 * exactly the tables an uninterrupted run builds. When every partition is
 * within `handOverLagEvents` of the store, the version is marked `catching_up`
 * and running projectors follow it from JetStream.
 */
export async function rebuildVersion(pool: pg.Pool, options: RebuildOptions): Promise<RebuildResult> {
  const logic = merchantMetricsLogic(options.version);
  const partitions = await readPartitionCount(pool);
  let version = await findVersion(pool, PROJECTION_NAME, options.version);
  if (version && version.status !== 'building') {
    throw new RebuildRefusedError(`${PROJECTION_NAME} v${options.version} is ${version.status}, not building: nothing to rebuild (drop it first to build it again)`);
  }
  if (!version) {
    const client = await pool.connect();
    try {
      version = await installVersion(client, {
        projection: PROJECTION_NAME, version: options.version, partitions, codeRevision: options.codeRevision, deferKeys: true,
      });
    } finally {
      client.release();
    }
  }
  const target: ProjectionTarget = {
    projection: PROJECTION_NAME, version: version.version, schemaName: version.schemaName, engine: version.engine, logic,
  };
  const started = performance.now();
  const progress: RebuildProgress = { done: 0, total: 0, partitionsDone: 0, partitions, phase: 'bulk' };
  const report = () => options.onProgress?.({ ...progress });
  const stop = () => options.shouldStop?.() ?? false;
  const concurrency = options.concurrency ?? 2;
  const chunkEvents = options.chunkEvents ?? 2_000_000;
  const applied = (n: number) => { progress.done += n; report(); };

  /** Runs `work` for every partition with events missing, largest first, `concurrency` at a time. */
  const eachPartition = async (phase: RebuildProgress['phase'], work: (partition: number) => Promise<void>): Promise<void> => {
    progress.phase = phase;
    progress.partitionsDone = 0;
    const lags = await lagByPartition(pool, target.version);
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
  const fold = (partition: number, first: boolean) => foldPartition(pool, target, partition, {
    chunkEvents, first, applied, stop,
    // First chunks build their partition's keys when the read model's partitions are the store's.
    buildKeys: first && readModelPartitionsMatch(partitions),
  });

  // 1. The first chunk of every partition still at zero: plain inserts into tables without keys.
  const fresh = target.engine === 'postgres' && !(await hasReadModelKeys(pool, target.schemaName));
  if (fresh) await eachPartition('bulk', (p) => fold(p, true));
  if (!stop()) {
    // 2. The primary keys the fresh tables were created without (adding to cells needs them).
    progress.phase = 'keys';
    report();
    await withClients(pool, concurrency, (clients) => addMissingReadModelKeys(clients, target.schemaName, target.engine));
    // 3. The rest of each partition, then what arrived meanwhile, until within hand-over distance.
    for (let pass = 0; pass < 20 && !stop(); pass++) {
      await eachPartition(pass === 0 ? 'bulk' : 'catch-up', (p) => fold(p, false));
      const lags = await lagByPartition(pool, target.version);
      if (Math.max(0, ...lags.values()) <= (options.handOverLagEvents ?? 1000)) break;
    }
  }
  const stopped = stop();
  if (!stopped) await advanceStatus(pool, PROJECTION_NAME, target.version, 'building', 'catching_up');
  const finished = await findVersion(pool, PROJECTION_NAME, target.version);
  return { version: finished ?? version, events: progress.done, seconds: (performance.now() - started) / 1000, stopped };
}

/**
 * Folds a partition chunk after chunk from its checkpoint up to the store's
 * head (as of each chunk), or until asked to stop; with `first`, only its
 * first chunk, and only if its checkpoint is still zero. When someone else
 * moved the checkpoint (another rebuild), it continues from where that is.
 */
async function foldPartition(
  pool: pg.Pool,
  target: ProjectionTarget,
  partition: number,
  options: { chunkEvents: number; first: boolean; buildKeys: boolean; applied: (events: number) => void; stop: () => boolean },
): Promise<void> {
  const client = await pool.connect();
  try {
    while (!options.stop()) {
      const from = await readCheckpoint(client, PROJECTION_NAME, target.version, partition);
      if (options.first && from !== 0) return;
      try {
        const { events } = await bulkFoldPartition(client, target, partition, { from, maxEvents: options.chunkEvents, buildKeys: options.buildKeys });
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

async function withClients<T>(pool: pg.Pool, n: number, work: (clients: pg.PoolClient[]) => Promise<T>): Promise<T> {
  const clients = await Promise.all(Array.from({ length: n }, () => pool.connect()));
  try {
    return await work(clients);
  } finally {
    for (const c of clients) c.release();
  }
}

/** Events each partition still lacks, by partition. */
async function lagByPartition(pool: pg.Pool, version: number): Promise<Map<number, number>> {
  const progress = await readPartitionProgress(pool, PROJECTION_NAME, version);
  return new Map(progress.map((p) => [p.partition, Math.max(0, p.head - p.checkpoint)]));
}
