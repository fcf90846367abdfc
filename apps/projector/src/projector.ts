import { hostname } from 'node:os';
import type pg from 'pg';
import type { ProjectorConfig } from '@app/config';
import { readPartitionCount } from '@app/event-store';
import { describeError, type NatsConnector } from '@app/messaging';
import {
  advanceStatus, codeRevision, findVersion, goLiveIfFirst, installVersion, readStoredEvents,
  type EventSource, type ProjectionDefinition, type ProjectionVersion, type VersionRuntime, type VersionTarget,
} from '@app/projections';
import {
  BATCH_BUDGET_FLOOR_EVENTS, DEFAULT_BATCH_BUDGET_EVENTS, DEFAULT_BUFFER_EVENTS, DEFAULT_BUFFER_TOTAL_EVENTS, DEFAULT_SKETCH_CACHE_MB, type ProjectorMemoryConfig,
} from './config/projector-memory.config.js';
import { LagMonitor, type PartitionLag } from './monitoring/lag-monitor.js';
import type { ProjectorMetrics } from './monitoring/projector.metrics.js';
import { BatchBudget } from './partitions/batch-budget.js';
import { PartitionConsumer } from './partitions/partition-consumer.js';
import { SharedBufferBound } from './partitions/pull-budget.js';
import { PartitionLeases } from './partitions/partition-leases.js';
import { PartitionWorker } from './partitions/partition-worker.js';

export interface ProjectorLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * The projection of one version of one projection in this process: installs the
 * version on first start, shares partitions with other processes through
 * leases, runs a worker per owned partition, and watches lag. The first
 * version to catch up goes live; later ones wait for the operator's promote.
 */
export class Projector {
  private readonly workers = new Map<number, PartitionWorker>();
  private leases?: PartitionLeases;
  private monitor?: LagMonitor;
  private target?: VersionTarget;
  private runtime?: VersionRuntime;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = false;
  private maintaining?: Promise<void>;
  /** Events this version's workers hold in batches, all partitions together. */
  readonly batchBudget: BatchBudget;
  /** Events this version's consumers hold in their buffers, all partitions together. */
  readonly buffered: SharedBufferBound;
  lastLag: PartitionLag[] = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly nats: NatsConnector,
    readonly metrics: ProjectorMetrics,
    private readonly config: ProjectorConfig & Partial<ProjectorMemoryConfig>,
    readonly definition: ProjectionDefinition,
    readonly version: number,
    private readonly logger: ProjectorLogger,
    /** Leases, lag, status and installation: connections that batches never hold (the batches' pool if not given). */
    private readonly control: pg.Pool = pool,
    /** Where workers read events (default: the store). */
    private readonly events: EventSource = readStoredEvents(pool),
  ) {
    this.buffered = new SharedBufferBound(config.bufferTotalEvents ?? DEFAULT_BUFFER_TOTAL_EVENTS);
    this.batchBudget = new BatchBudget(config.batchBudgetEvents ?? DEFAULT_BATCH_BUDGET_EVENTS, Math.min(config.batchEvents, BATCH_BUDGET_FLOOR_EVENTS));
  }

  async start(): Promise<void> {
    const partitions = await readPartitionCount(this.control);
    const version = await this.ensureInstalled(partitions);
    this.target = { projection: this.definition.name, version: version.version, schemaName: version.schemaName, engine: version.engine };
    // The version's caches share the process's cache budget with its other versions' (PROJECTOR_SKETCH_CACHE_MB each).
    this.runtime = this.definition.open(this.target, {
      cacheBytes: this.config.sketchCacheBytes ?? DEFAULT_SKETCH_CACHE_MB * 1024 * 1024,
      maintenanceMs: this.config.rollupCheckMs,
    });
    const owner = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.leases = new PartitionLeases(this.control, { projection: this.target.projection, version: version.version, partitions }, owner, this.config.leaseMs);
    this.monitor = new LagMonitor(this.control, this.target, this.config.stallMs, this.metrics, this.logger);
    this.logger.log(`projecting ${this.target.projection} v${version.version} (${version.status}, ${version.engine}) into ${version.schemaName} as ${owner}`);
    await this.tick();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await this.maintaining;
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
    await this.leases?.leave().catch((error) => this.logger.warn(`could not release leases: ${describeError(error)}`));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => this.schedule());
    }, Math.max(200, Math.min(1000, this.config.leaseMs / 3)));
  }

  private async tick(): Promise<void> {
    try {
      await this.rebalance();
      this.lastLag = await this.monitor!.sample();
      for (const lag of this.lastLag) {
        const worker = this.workers.get(lag.partition);
        if (worker) worker.storeHead = lag.head;
      }
      await this.updateStatus();
      // Beside the tick, never in its way: lag and leases must not wait for slow maintenance (rollups).
      const maintain = this.runtime!.maintain;
      if (maintain) {
        this.maintaining ??= maintain(this.pool, [...this.workers.keys()], () => this.stopped, (m) => this.logger.log(m))
          .catch((error) => this.logger.warn(`${this.target!.projection} v${this.target!.version} maintenance failed: ${describeError(error)}`))
          .finally(() => { this.maintaining = undefined; });
      }
    } catch (error) {
      this.logger.warn(`projector tick failed: ${describeError(error)}`);
    }
  }

  private async rebalance(): Promise<void> {
    if (this.stopped) return;
    const { owned, surplus } = await this.leases!.tick();
    const stopping: Array<Promise<void>> = [];
    for (const [partition, worker] of this.workers) {
      if (!owned.has(partition) || surplus.includes(partition)) {
        this.workers.delete(partition);
        stopping.push(worker.stop());
      }
    }
    // Give partitions back only once their workers are idle (in parallel: at most one fetch wait).
    await Promise.all(stopping);
    await this.leases!.release(surplus);
    for (const partition of owned) {
      if (surplus.includes(partition) || this.workers.has(partition)) continue;
      const observer = this.metrics.forVersion(this.target!.projection, this.target!.version);
      const consumer = new PartitionConsumer(
        this.nats, this.target!.projection, this.target!.version, partition, this.config.ackWaitMs,
        this.config.bufferEvents ?? DEFAULT_BUFFER_EVENTS, observer, this.buffered,
      );
      const worker = new PartitionWorker(
        this.pool, consumer, this.target!, this.runtime!, this.events, partition,
        { batchEvents: this.config.batchEvents, fetchMessages: this.config.fetchMessages, fetchWaitMs: 1000, budget: this.batchBudget },
        observer, this.logger,
      );
      this.workers.set(partition, worker);
      worker.start();
    }
    this.metrics.ownedPartitions.set({ projection: this.target!.projection, version: String(this.target!.version) }, this.workers.size);
  }

  private async updateStatus(): Promise<void> {
    const { projection } = this.target!;
    const version = await findVersion(this.control, projection, this.target!.version);
    if (!version || version.status === 'live' || version.status === 'retired') return;
    const caughtUp = this.lastLag.length > 0 && this.lastLag.every((l) => l.lagEvents === 0 || l.lagSeconds < 5);
    if (!caughtUp) return;
    if (version.status === 'building') await advanceStatus(this.control, projection, version.version, 'building', 'catching_up');
    if (await goLiveIfFirst(this.control, projection, version.version)) {
      this.logger.log(`${projection} v${version.version} caught up and is the first version: now live`);
    }
  }

  private async ensureInstalled(partitions: number): Promise<ProjectionVersion> {
    const projection = this.definition.name;
    const existing = await findVersion(this.control, projection, this.version);
    if (existing) return existing;
    if (!this.definition.versions().includes(this.version)) {
      // Refused before any table is created.
      throw new Error(`${projection} has no version ${this.version} (known: ${this.definition.versions().join(', ')})`);
    }
    const client = await this.pool.connect();
    try {
      const installed = await installVersion(client, this.definition, { version: this.version, partitions, codeRevision: codeRevision() });
      this.logger.log(`installed ${projection} v${installed.version} (${installed.engine}) in ${installed.schemaName}`);
      return installed;
    } catch (error) {
      // Another process installed it at the same moment.
      const raced = await findVersion(this.control, projection, this.version);
      if (raced) return raced;
      throw error;
    } finally {
      client.release();
    }
  }
}
