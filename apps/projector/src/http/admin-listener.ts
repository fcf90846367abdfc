import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { MonitoringConfig } from '@app/config';
import { AdminServer, jsonResponse, metricsResponse, ReadinessProbe } from '@app/monitoring';
import { ProjectorSet } from '../projector-set.js';

export const MONITORING_CONFIG = Symbol('MonitoringConfig');

/**
 * The admin port (ADMIN_HOST:PROJECTOR_ADMIN_PORT, loopback by default):
 * Prometheus /metrics and /health/details, with lag and stalls per partition.
 * Also runs the readiness probe, until shutdown begins.
 */
@Injectable()
export class AdminListener implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  server?: AdminServer;

  constructor(
    @Inject(MONITORING_CONFIG) private readonly config: MonitoringConfig,
    private readonly projector: ProjectorSet,
    private readonly readiness: ReadinessProbe<{ database: true }>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.readiness.start();
    this.server = await AdminServer.listen(this.config.adminHost, this.config.adminPort, 'PROJECTOR_ADMIN_PORT', {
      '/metrics': () => metricsResponse(this.projector.metrics.registry),
      '/health/details': () => {
        const { ready, error } = this.readiness.last;
        const lag = this.projector.lastLag;
        return jsonResponse(ready ? 200 : 503, {
          status: ready ? 'ok' : 'unavailable',
          database: ready,
          nats: this.projector.natsConnected,
          lagEvents: lag.reduce((sum, l) => sum + l.lagEvents, 0),
          stalledPartitions: lag.filter((l) => l.stalled).map((l) => l.partition),
          ...(error ? { error } : {}),
        });
      },
    });
    new Logger('Projector').log(`admin port on ${this.server.url} (/metrics, /health/details)`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.readiness.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.close();
  }
}
