import type pg from 'pg';
import type { ProjectorConfig } from '@app/config';
import { describeError, NatsConnector } from '@app/messaging';
import { knownMerchantMetricsVersions, listVersions, PROJECTION_NAME, readLive } from '@app/merchant-metrics';
import type { ProjectorMemoryConfig } from './config/projector-memory.config.js';
import type { PartitionLag } from './monitoring/lag-monitor.js';
import { ProjectorMetrics } from './monitoring/projector.metrics.js';
import { Projector, type ProjectorLogger } from './projector.js';

/** How often the registry is checked for versions to start or stop following. */
const REFRESH_MS = 2000;

/**
 * Every version a projector process follows: the configured one (installed
 * on first start), the previous live one (the rollback target), and every
 * other registered version that is catching up or live and whose logic this code has — so a version built by `projections
 * rebuild` is kept current from JetStream by the running projectors, and a
 * retired one stops costing anything.
 */
export class ProjectorSet {
  readonly metrics = new ProjectorMetrics();
  private readonly nats: NatsConnector;
  private readonly projectors = new Map<number, Projector>();
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly config: ProjectorConfig & Partial<ProjectorMemoryConfig>,
    private readonly logger: ProjectorLogger,
    /** Leases, lag, the registry: connections that batches never hold (the batches' pool if not given). */
    private readonly control: pg.Pool = pool,
  ) {
    this.nats = new NatsConnector(config.natsUrl, `projector-${PROJECTION_NAME}`, logger, 'use');
  }

  get natsConnected(): boolean {
    return this.nats.connected;
  }

  get lastLag(): PartitionLag[] {
    return [...this.projectors.values()].flatMap((p) => p.lastLag);
  }

  async start(): Promise<void> {
    this.nats.start();
    await this.follow(this.config.version);
    await this.refresh();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.refreshing;
    await Promise.all([...this.projectors.values()].map((p) => p.stop()));
    this.projectors.clear();
    await this.nats.close();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.refreshing = this.refresh()
        .catch((error) => this.logger.warn(`cannot read the projection registry: ${describeError(error)}`))
        .finally(() => this.schedule());
    }, REFRESH_MS);
  }

  private async refresh(): Promise<void> {
    const known = new Set(knownMerchantMetricsVersions());
    // A version still `building` belongs to `projections rebuild` (bulk reads of the store); projectors
    // take it over once the rebuild marks it `catching_up`. The configured version they build themselves.
    // The previous live version stays current too, so `projections rollback` can switch back at once.
    const previous = (await readLive(this.control, PROJECTION_NAME))?.previousVersion ?? null;
    const active = new Set(
      (await listVersions(this.control, PROJECTION_NAME))
        .filter((v) => v.status === 'catching_up' || v.status === 'live' || v.version === this.config.version || v.version === previous)
        .filter((v) => known.has(v.version))
        .map((v) => v.version),
    );
    for (const [version, projector] of this.projectors) {
      if (!active.has(version)) {
        this.projectors.delete(version);
        await projector.stop();
        this.logger.log(`stopped following ${PROJECTION_NAME} v${version} (retired or dropped)`);
      }
    }
    for (const version of active) if (!this.projectors.has(version) && !this.stopped) await this.follow(version);
  }

  private async follow(version: number): Promise<void> {
    const projector = new Projector(this.pool, this.nats, this.metrics, this.config, version, this.logger, this.control);
    await projector.start();
    this.projectors.set(version, projector);
  }
}
