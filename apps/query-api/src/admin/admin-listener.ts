import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AdminServer, jsonResponse, metricsResponse, ReadinessProbe } from '@app/monitoring';
import { DrainState } from '../health/drain-state.js';
import type { QueryApiReadiness } from '../health/readiness.js';
import { QueryApiConfigRef } from '../infrastructure/config.provider.js';
import { QueryApiMetrics } from '../metrics/query-api.metrics.js';

/**
 * The admin port (ADMIN_HOST:QUERY_API_ADMIN_PORT, loopback by default):
 * Prometheus /metrics and /health/details, off the port merchants reach.
 * Also runs the readiness probe, from before the API listens until shutdown begins.
 */
@Injectable()
export class AdminListener implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  server?: AdminServer;

  constructor(
    private readonly config: QueryApiConfigRef,
    private readonly metrics: QueryApiMetrics,
    private readonly readiness: ReadinessProbe<QueryApiReadiness>,
    private readonly drain: DrainState,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.readiness.start();
    const { adminHost, adminPort } = this.config.value;
    this.server = await AdminServer.listen(adminHost, adminPort, 'QUERY_API_ADMIN_PORT', {
      '/metrics': () => metricsResponse(this.metrics.registry),
      '/health/details': () => {
        const { ready, details, error } = this.readiness.last;
        const status = this.drain.draining ? 'draining' : ready ? 'ready' : 'unavailable';
        return jsonResponse(status === 'ready' ? 200 : 503, { status, database: details ? 'ok' : 'unreachable', ...details, ...(error ? { error } : {}) });
      },
    });
    new Logger('QueryApi').log(`admin port on ${this.server.url} (/metrics, /health/details)`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.readiness.stop();
  }

  /** After the API has drained, so /metrics can be scraped until the end. */
  async onApplicationShutdown(): Promise<void> {
    await this.server?.close();
  }
}
