import { Logger as NestLogger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { createLogger } from './create-logger.js';
import { loadLoggingConfig } from './logging.config.js';
import { NestPinoLogger } from './nest-logger.js';
import { echoRequestId, fastifyLogging } from './request-logging.js';

/** How an app's start function is told to log: `logger: false` silences it (tests); `logs` replaces stdout. */
export interface LogOptions {
  logger?: boolean;
  logs?: DestinationStream;
}

export interface AppLogging {
  pino: Logger;
  /** For NestFactory.create's `logger`. */
  nest: NestPinoLogger;
  /** For the FastifyAdapter's options. */
  fastify: ReturnType<typeof fastifyLogging>;
  /** Adds the hooks that go with them to the adapter's instance. */
  attach(fastify: FastifyInstance): void;
}

/**
 * An app's logging, configured from LOG_LEVEL, LOG_FORMAT and LOG_REDACT. From this call on,
 * Nest's `Logger` writes through it, so what an app logs before NestFactory.create does too.
 */
export function appLogging(app: string, options: LogOptions = {}, env: Record<string, string | undefined> = process.env): AppLogging {
  const config = loadLoggingConfig(env);
  const pino = createLogger(app, options.logger === false ? { ...config, level: 'silent' } : config, options.logs);
  const nest = new NestPinoLogger(pino);
  NestLogger.overrideLogger(nest);
  return { pino, nest, fastify: fastifyLogging(pino), attach: echoRequestId };
}
