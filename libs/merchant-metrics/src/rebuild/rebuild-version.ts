import type pg from 'pg';
import { readPartition, readPartitionCount } from '@app/event-store';
import { applyEvents, type ProjectionTarget } from '../projection/apply-events.js';
import { merchantMetricsLogic, PROJECTION_NAME } from '../projection/merchant-metrics.projection.js';
import type { PaymentEventJson } from '../projection/payment-event.json.js';
import { CheckpointMovedError, readCheckpoint, readPartitionProgress } from '../registry/checkpoints.js';
import { addMissingReadModelKeys, hasReadModelKeys, readModelPartitionsMatch } from '../schema/read-model-tables.js';
import { bulkFoldPartition } from './bulk-fold.js';
import { advanceStatus, findVersion, installVersion, type ProjectionVersion } from '../registry/projection-registry.js';

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
  /** Partitions built side by side (PostgreSQL and Node each get a core on a 2-core machine). */
  concurrency?: number;
  /** Events per transaction (and per read). */
  batchEvents?: number;
  /** Events of a partition not started yet folded by PostgreSQL in one set-based pass (default 50,000,000); the rest follow as upserts. */
  firstPassEvents?: number;
  /** After the bulk pass, catch up from the store until every partition is within this many events. */
  handOverLagEvents?: number;
  onProgress?: (progress: RebuildProgress) => void;
  /** Checked between batches: a clean stop (Ctrl-C) leaves committed checkpoints to resume from. */
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
 * store in bulk (not JetStream, whose retention is finite), partition by
 * partition, each batch aggregated in memory and committed with its
 * checkpoint. Interrupted in any way, a rerun resumes from the checkpoints and
 * ends with exactly the tables an uninterrupted run builds. When every
 * partition is within `handOverLagEvents` of the store, the version is marked
 * `catching_up` and running projectors follow it from JetStream.
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
  const batchEvents = options.batchEvents ?? 20_000;
  const report = () => options.onProgress?.({ ...progress });

  const concurrency = options.concurrency ?? 2;
  const applied = (n: number) => { progress.done += n; report(); };
  /** Runs `work` for every partition with events missing, largest first, `concurrency` at a time. */
  const eachPartition = async (phase: RebuildProgress['phase'], work: (partition: number) => Promise<void>): Promise<void> => {
    progress.phase = phase;
    progress.partitionsDone = 0;
    const lags = await lagByPartition(pool, target.version);
    progress.total = progress.done + [...lags.values()].reduce((a, b) => a + b, 0);
    const queue = [...lags.entries()].filter(([, lag]) => lag > 0).sort((a, b) => b[1] - a[1]).map(([p]) => p);
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let p = queue.shift(); p !== undefined && !options.shouldStop?.(); p = queue.shift()) {
        await work(p);
        progress.partitionsDone++;
        report();
      }
    }));
  };

  // 1. Partitions nothing was applied to yet: folded inside PostgreSQL.
  const bulk = {
    maxEvents: options.firstPassEvents ?? 50_000_000,
    buildKeys: target.engine === 'postgres' && readModelPartitionsMatch(partitions) && !(await hasReadModelKeys(pool, target.schemaName)),
  };
  await eachPartition('bulk', (p) => bulkPartition(pool, target, p, bulk, applied));
  if (!options.shouldStop?.()) {
    // 2. The primary keys the fresh tables were created without (the upserts below need them).
    progress.phase = 'keys';
    report();
    await withClients(pool, concurrency, (clients) => addMissingReadModelKeys(clients, target.schemaName, target.engine));
    // 3. What the bulk pass left and what arrived since, through the projector's upserts, until within hand-over distance.
    for (let pass = 0; pass < 20 && !options.shouldStop?.(); pass++) {
      await eachPartition('catch-up', (p) => buildPartition(pool, target, p, batchEvents, applied, options.shouldStop));
      const lags = await lagByPartition(pool, target.version);
      if (Math.max(0, ...lags.values()) <= (options.handOverLagEvents ?? 1000)) break;
    }
  }
  const stopped = options.shouldStop?.() ?? false;
  if (!stopped) await advanceStatus(pool, PROJECTION_NAME, target.version, 'building', 'catching_up');
  const finished = await findVersion(pool, PROJECTION_NAME, target.version);
  return { version: finished ?? version, events: progress.done, seconds: (performance.now() - started) / 1000, stopped };
}


/** The bulk fold of a partition still at zero; one that has moved (an earlier run, another rebuild) is left to the upserts. */
async function bulkPartition(
  pool: pg.Pool,
  target: ProjectionTarget,
  partition: number,
  bulk: { maxEvents: number; buildKeys: boolean },
  applied: (events: number) => void,
): Promise<void> {
  if (await readCheckpoint(pool, PROJECTION_NAME, target.version, partition) !== 0) return;
  const client = await pool.connect();
  try {
    const { events } = await bulkFoldPartition(client, target, partition, bulk);
    applied(events);
  } catch (error) {
    if (!(error instanceof CheckpointMovedError)) throw error;
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

/** Applies one partition from its checkpoint to the store's head as of now (or until asked to stop). */
async function buildPartition(
  pool: pg.Pool,
  target: ProjectionTarget,
  partition: number,
  batchEvents: number,
  applied: (events: number) => void,
  shouldStop?: () => boolean,
): Promise<void> {
  let checkpoint = await readCheckpoint(pool, PROJECTION_NAME, target.version, partition);
  for (;;) {
    if (shouldStop?.()) return;
    const rows = await readPartition(pool, partition, checkpoint, batchEvents);
    if (rows.length === 0) return;
    const events = rows.map((r) => ({ position: r.position, recordedAt: r.recordedAt, event: JSON.parse(r.payloadJson) as PaymentEventJson }));
    const client = await pool.connect();
    try {
      const next = await applyEvents(client, target, partition, checkpoint, events);
      applied(next - checkpoint);
      checkpoint = next;
    } catch (error) {
      // Someone else (another rebuild, a projector) moved it: continue from where it is now.
      if (!(error instanceof CheckpointMovedError)) throw error;
      checkpoint = await readCheckpoint(pool, PROJECTION_NAME, target.version, partition);
    } finally {
      client.release();
    }
    if (rows.length < batchEvents) return;
  }
}

/** Events each partition still lacks, by partition. */
async function lagByPartition(pool: pg.Pool, version: number): Promise<Map<number, number>> {
  const progress = await readPartitionProgress(pool, PROJECTION_NAME, version);
  return new Map(progress.map((p) => [p.partition, Math.max(0, p.head - p.checkpoint)]));
}
