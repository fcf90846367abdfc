import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { NatsConnector } from '@app/messaging';
import { AdminServer, jsonResponse, metricsResponse, ReadinessProbe } from '@app/monitoring';
import { DrainState } from '../health/drain-state.js';
import type { CommandApiReadiness } from '../health/readiness.js';
import { CommandApiConfigRef } from '../infrastructure/config.provider.js';
import { CommandApiMetrics } from '../metrics/command-api.metrics.js';

/**
 * The admin port (ADMIN_HOST:COMMAND_API_ADMIN_PORT, loopback by default):
 * Prometheus /metrics and /health/details, off the port producers reach.
 * Also runs the readiness probe, from before the API listens until shutdown begins.
 */
@Injectable()
export class AdminListener implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  server?: AdminServer;

  constructor(
    private readonly config: CommandApiConfigRef,
    private readonly metrics: CommandApiMetrics,
    private readonly nats: NatsConnector,
    private readonly readiness: ReadinessProbe<CommandApiReadiness>,
    private readonly drain: DrainState,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.readiness.start();
    const { adminHost, adminPort } = this.config.value;
    this.server = await AdminServer.listen(adminHost, adminPort, 'COMMAND_API_ADMIN_PORT', {
      '/metrics': () => {
        this.metrics.natsConnected.set(this.nats.connected ? 1 : 0);
        return metricsResponse(this.metrics.registry);
      },
      '/health/details': () => {
        const { ready, error } = this.readiness.last;
        const status = this.drain.draining ? 'draining' : ready ? 'ready' : 'unavailable';
        return jsonResponse(status === 'ready' ? 200 : 503, {
          status,
          database: ready ? 'ok' : 'unreachable',
          nats: this.nats.connected ? 'connected' : 'disconnected',
          ...(error ? { error } : {}),
        });
      },
    });
    new Logger('CommandApi').log(`admin port on ${this.server.url} (/metrics, /health/details)`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.readiness.stop();
  }

  /** After the API has drained, so /metrics can be scraped until the end. */
  async onApplicationShutdown(): Promise<void> {
    await this.server?.close();
  }
}
