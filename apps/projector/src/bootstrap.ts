import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { redactUrl, type ProjectorConfig } from '@app/config';
import { createPool } from '@app/database';
import type { ProjectorMemoryConfig } from './config/projector-memory.config.js';
import { ProjectorHttpModule } from './http/projector-http.module.js';
import { ProjectorSet } from './projector-set.js';

/** Starts a projector process: the projection itself, and /health and /metrics over HTTP. */
export async function startProjector(config: ProjectorConfig & Partial<ProjectorMemoryConfig>, options: { logger?: boolean } = {}): Promise<NestFastifyApplication> {
  const logger = new Logger('Projector');
  const pool = createPool({ connectionString: config.databaseUrl, max: config.databasePoolSize, applicationName: 'projector' });
  const projector = new ProjectorSet(pool, config, logger);
  await projector.start();
  const app = await NestFactory.create<NestFastifyApplication>(ProjectorHttpModule.with(projector, pool), new FastifyAdapter(), {
    logger: options.logger === false ? false : ['log', 'warn', 'error'],
  });
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  logger.log(`listening on ${await app.getUrl()} (database ${redactUrl(config.databaseUrl)}, NATS ${redactUrl(config.natsUrl)})`);
  return app;
}
