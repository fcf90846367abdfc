import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { redactUrl, type CommandApiConfig } from '@app/config';
import { appLogging, REQUEST_ID_HEADER, requestIdOf, type LogOptions } from '@app/logging';
import { CommandApiModule } from './app.module.js';
import { DrainState } from './health/drain-state.js';

/** Builds and starts the command API; main.ts and the tests both start it this way. */
export async function startCommandApi(config: CommandApiConfig, options: LogOptions = {}): Promise<NestFastifyApplication> {
  const logging = appLogging('command-api', options);
  // While draining, requests already received are served (return503OnClosing: false); idle
  // keep-alive connections are closed so clients reconnect to another instance.
  // requestTimeout: Node's own limit on receiving a whole request (headers and body), a backstop behind the
  // handler's body deadline (COMMAND_API_BODY_TIMEOUT_SECONDS), which also covers clients that stall before the body.
  // Every request gets an id (request.id): the caller's X-Request-Id when well-formed, else a fresh one;
  // Fastify logs through the app's logger, each request's lines with that id.
  const adapter = new FastifyAdapter({
    ...logging.fastify,
    bodyLimit: config.maxBodyBytes, forceCloseConnections: 'idle', return503OnClosing: false,
    requestTimeout: config.bodyTimeoutMs + 20_000, connectionTimeout: config.bodyTimeoutMs + 60_000,
    requestIdHeader: false, genReqId: requestIdOf,
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  // The Connect endpoint reads and bounds its own body (it must answer in
  // Connect's error format), so Fastify passes every body through unread.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  const drain = new DrainState();
  fastify.addHook('onSend', async (_request, reply, payload) => {
    if (drain.draining) reply.header('connection', 'close');
    return payload;
  });

  const app = await NestFactory.create<NestFastifyApplication>(CommandApiModule.forConfig(config, drain, logging.pino), adapter, {
    bodyParser: false,
    logger: logging.nest,
  });
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  new Logger('CommandApi').log(
    `listening on ${await app.getUrl()} (database ${redactUrl(config.databaseUrl)}, NATS ${redactUrl(config.natsUrl)})`,
  );
  return app;
}
