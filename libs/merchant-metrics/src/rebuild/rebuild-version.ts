import type pg from 'pg';
import { readPartition, readPartitionCount } from '@app/event-store';
import { applyEvents, type ProjectionTarget } from '../projection/apply-events.js';
import { merchantMetricsLogic, PROJECTION_NAME } from '../projection/merchant-metrics.projection.js';
import type { PaymentEventJson } from '../projection/payment-event.json.js';
import { advanceCheckpoint, CheckpointMovedError, readCheckpoint, readPartitionProgress } from '../registry/checkpoints.js';
import { MetricsDelta } from '../projection/metrics-delta.js';
import { copyDelta } from './copy-delta.js';
import { advanceStatus, findVersion, installVersion, type ProjectionVersion } from '../registry/projection-registry.js';

export interface RebuildProgress {
  /** Events applied by this run so far. */
  done: number;
  /** Events that were waiting when this run started (grows while ingest continues). */
  total: number;
  partitionsDone: number;
  partitions: number;
  phase: 'bulk' | 'catch-up';
}

export interface RebuildOptions {
  version: number;
  codeRevision: string;
  /** Partitions built side by side (PostgreSQL and Node each get a core on a 2-core machine). */
  concurrency?: number;
  /** Events per transaction (and per read). */
  batchEvents?: number;
  /** Events of a partition not started yet folded in memory and written with COPY at once (default 2,000,000). */
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
      version = await installVersion(client, { projection: PROJECTION_NAME, version: options.version, partitions, codeRevision: options.codeRevision });
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

  const buildPass = async (phase: RebuildProgress['phase']): Promise<void> => {
    progress.phase = phase;
    progress.partitionsDone = 0;
    const lags = await lagByPartition(pool, target.version);
    progress.total = progress.done + [...lags.values()].reduce((a, b) => a + b, 0);
    const queue = [...lags.entries()].sort((a, b) => b[1] - a[1]).map(([p]) => p);
    await Promise.all(Array.from({ length: options.concurrency ?? 2 }, async () => {
      for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
        const sizes = { batchEvents, firstPassEvents: options.firstPassEvents ?? 2_000_000 };
        await buildPartition(pool, target, p, sizes, (n) => { progress.done += n; report(); }, options.shouldStop);
        progress.partitionsDone++;
        report();
      }
    }));
  };

  await buildPass('bulk');
  for (let pass = 0; pass < 20 && !options.shouldStop?.(); pass++) {
    const lags = await lagByPartition(pool, target.version);
    if (Math.max(0, ...lags.values()) <= (options.handOverLagEvents ?? 1000)) break;
    await buildPass('catch-up');
  }
  const stopped = options.shouldStop?.() ?? false;
  if (!stopped) await advanceStatus(pool, PROJECTION_NAME, target.version, 'building', 'catching_up');
  const finished = await findVersion(pool, PROJECTION_NAME, target.version);
  return { version: finished ?? version, events: progress.done, seconds: (performance.now() - started) / 1000, stopped };
}


/**
 * A partition not started yet: fold its first events (up to firstPassEvents)
 * in memory, then write them with COPY and move the checkpoint from zero, in
 * one transaction. Interrupted, nothing of it is kept and a rerun starts it
 * over: the result is the same either way.
 */
async function firstPass(
  pool: pg.Pool,
  target: ProjectionTarget,
  partition: number,
  { batchEvents, firstPassEvents }: { batchEvents: number; firstPassEvents: number },
  folded: (events: number) => void,
  shouldStop?: () => boolean,
): Promise<number> {
  const delta = new MetricsDelta();
  let position = 0;
  let recordedAt = '';
  let count = 0;
  while (count < firstPassEvents) {
    if (shouldStop?.()) return 0;
    const want = Math.min(batchEvents, firstPassEvents - count);
    const rows = await readPartition(pool, partition, position, want);
    for (const r of rows) {
      // Every payment a refund can name is in this same partition, hence already folded (or unknown).
      target.logic.apply(delta, JSON.parse(r.payloadJson) as PaymentEventJson, NO_PAYMENTS);
      position = r.position;
      recordedAt = r.recordedAt;
    }
    count += rows.length;
    folded(rows.length);
    if (rows.length < want) break;
  }
  if (count === 0) return 0;
  const client = await pool.connect();
  try {
    await client.query('begin');
    await advanceCheckpoint(client, { projection: target.projection, version: target.version, partition }, 0, { position, recordedAt, events: count });
    await copyDelta(client, target.schemaName, target.engine, delta);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return position;
}

const NO_PAYMENTS: ReadonlyMap<string, number> = new Map();

/** Applies one partition from its checkpoint to the store's head as of now (or until asked to stop). */
async function buildPartition(
  pool: pg.Pool,
  target: ProjectionTarget,
  partition: number,
  sizes: { batchEvents: number; firstPassEvents: number },
  applied: (events: number) => void,
  shouldStop?: () => boolean,
): Promise<void> {
  const { batchEvents } = sizes;
  let checkpoint = await readCheckpoint(pool, PROJECTION_NAME, target.version, partition);
  if (checkpoint === 0) {
    try {
      checkpoint = await firstPass(pool, target, partition, sizes, applied, shouldStop);
    } catch (error) {
      // Someone else moved it from zero (another rebuild): continue from there with upserts.
      if (!(error instanceof CheckpointMovedError)) throw error;
      checkpoint = await readCheckpoint(pool, PROJECTION_NAME, target.version, partition);
    }
  }
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
