import type pg from 'pg';
import type { ProjectorConfig } from '@app/config';
import { describeError, NatsConnector } from '@app/messaging';
import { listVersions, readLive, readStoredEvents, type EventSource, type ProjectionCatalog, type ProjectionDefinition } from '@app/projections';
import type { ProjectorMemoryConfig } from './config/projector-memory.config.js';
import type { PartitionLag } from './monitoring/lag-monitor.js';
import { ProjectorMetrics } from './monitoring/projector.metrics.js';
import { Projector, type ProjectorLogger } from './projector.js';

/** How often the registry is checked for versions to start or stop following. */
const REFRESH_MS = 2000;

/**
 * Every version a projector process follows, for each projection of the
 * catalog it runs (PROJECTOR_PROJECTIONS, default all): the configured one
 * (PROJECTOR_VERSIONS, else the definition's default; installed on first
 * start), the previous live one (the rollback target), and every other
 * registered version that is catching up or live and whose logic this code
 * has — so a version built by `projections rebuild` is kept current from
 * JetStream by the running projectors, and a retired one stops costing anything.
 */
export class ProjectorSet {
  readonly metrics = new ProjectorMetrics();
  private readonly nats: NatsConnector;
  /** By projection, then version. */
  private readonly projectors = new Map<string, Map<number, Projector>>();
  private readonly definitions: ProjectionDefinition[];
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly config: ProjectorConfig & Partial<ProjectorMemoryConfig>,
    catalog: ProjectionCatalog,
    private readonly logger: ProjectorLogger,
    /** Leases, lag, the registry: connections that batches never hold (the batches' pool if not given). */
    private readonly control: pg.Pool = pool,
    /** Where workers read events (default: the store). */
    private readonly events: EventSource = readStoredEvents(pool),
  ) {
    this.definitions = (config.projections ?? catalog.names).map((name) => catalog.get(name));
    for (const name of Object.keys(config.versions)) {
      const definition = catalog.get(name);
      if (!definition.versions().includes(config.versions[name]!)) {
        throw new Error(`PROJECTOR_VERSIONS: ${name} has no version ${config.versions[name]} (known: ${definition.versions().join(', ')})`);
      }
    }
    this.nats = new NatsConnector(config.natsUrl, 'projector', logger, 'use');
  }

  get natsConnected(): boolean {
    return this.nats.connected;
  }

  get lastLag(): PartitionLag[] {
    return [...this.projectors.values()].flatMap((versions) => [...versions.values()].flatMap((p) => p.lastLag));
  }

  async start(): Promise<void> {
    this.nats.start();
    for (const definition of this.definitions) await this.follow(definition, this.configuredVersion(definition));
    await this.refresh();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.refreshing;
    await Promise.all([...this.projectors.values()].flatMap((versions) => [...versions.values()].map((p) => p.stop())));
    this.projectors.clear();
    await this.nats.close();
  }

  private configuredVersion(definition: ProjectionDefinition): number {
    return this.config.versions[definition.name] ?? definition.defaultVersion;
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
    for (const definition of this.definitions) await this.refreshProjection(definition);
  }

  private async refreshProjection(definition: ProjectionDefinition): Promise<void> {
    const projection = definition.name;
    const known = new Set(definition.versions());
    const configured = this.configuredVersion(definition);
    // A version still `building` belongs to `projections rebuild` (bulk reads of the store); projectors
    // take it over once the rebuild marks it `catching_up`. The configured version they build themselves.
    // The previous live version stays current too, so `projections rollback` can switch back at once.
    const previous = (await readLive(this.control, projection))?.previousVersion ?? null;
    const active = new Set(
      (await listVersions(this.control, projection))
        .filter((v) => v.status === 'catching_up' || v.status === 'live' || v.version === configured || v.version === previous)
        .filter((v) => known.has(v.version))
        .map((v) => v.version),
    );
    const running = this.versionsOf(projection);
    for (const [version, projector] of running) {
      if (!active.has(version)) {
        running.delete(version);
        await projector.stop();
        this.logger.log(`stopped following ${projection} v${version} (retired or dropped)`);
      }
    }
    for (const version of active) if (!running.has(version) && !this.stopped) await this.follow(definition, version);
  }

  private versionsOf(projection: string): Map<number, Projector> {
    let versions = this.projectors.get(projection);
    if (!versions) this.projectors.set(projection, (versions = new Map()));
    return versions;
  }

  private async follow(definition: ProjectionDefinition, version: number): Promise<void> {
    const projector = new Projector(this.pool, this.nats, this.metrics, this.config, definition, version, this.logger, this.control, this.events);
    await projector.start();
    this.versionsOf(definition.name).set(version, projector);
  }
}
