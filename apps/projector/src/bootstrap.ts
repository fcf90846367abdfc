import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ArchivedEventSource } from '@app/archive-source';
import { redactUrl, type ProjectorConfig } from '@app/config';
import { createPool } from '@app/database';
import { appLogging, type LogOptions } from '@app/logging';
import { projectionCatalog } from '@app/projection-catalog';
import type { ProjectorMemoryConfig } from './config/projector-memory.config.js';
import { ProjectorHttpModule } from './http/projector-http.module.js';
import { ProjectorSet } from './projector-set.js';

/** Connections for leases, lag sampling, the registry and readiness (beside DATABASE_POOL_SIZE for batches). */
const CONTROL_POOL_SIZE = 3;

/** Starts a projector process: the projection itself, /health on its port and /metrics on the admin port. */
export async function startProjector(config: ProjectorConfig & Partial<ProjectorMemoryConfig>, options: LogOptions = {}): Promise<NestFastifyApplication> {
  // First, so that what the projector logs while it starts goes through it too.
  const logging = appLogging('projector', options);
  const logger = new Logger('Projector');
  const pool = createPool({ connectionString: config.databaseUrl, max: config.databasePoolSize, applicationName: 'projector' });
  // Leases, lag, the registry and the readiness check on their own connections: sixteen partitions catching up
  // take every connection of the batches' pool in turn, and a lease must not wait behind them to be renewed.
  const control = createPool({ connectionString: config.databaseUrl, max: CONTROL_POOL_SIZE, applicationName: 'projector-control' });
  // Positions moved to the cold archive are read from its files (ARCHIVE_DIR), the rest from the store.
  const projector = new ProjectorSet(pool, config, projectionCatalog, logger, control, new ArchivedEventSource(pool, config.archiveDir));
  await projector.start();
  const adapter = new FastifyAdapter(logging.fastify);
  logging.attach(adapter.getInstance());
  const app = await NestFactory.create<NestFastifyApplication>(ProjectorHttpModule.with(projector, config, control, pool), adapter, {
    logger: logging.nest,
  });
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  logger.log(`listening on ${await app.getUrl()} (database ${redactUrl(config.databaseUrl)}, NATS ${redactUrl(config.natsUrl)})`);
  return app;
}
