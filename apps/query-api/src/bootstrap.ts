import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { redactUrl } from '@app/config';
import { appLogging, type LogOptions } from '@app/logging';
import { PROJECTION_NAME } from '@app/merchant-metrics';
import { LiveVersionCache } from '@app/projections';
import { QueryApiModule } from './app.module.js';
import { BearerAuthenticator } from './auth/bearer-authenticator.js';
import { authenticateGraphqlRequests } from './auth/graphql-authentication.hook.js';
import { RevocationList, type RevocationListOptions } from './auth/revocation-list.js';
import { dashboardRoutes } from './dashboard/dashboard-routes.js';
import { GRAPHQL_PATH } from './graphql/graphql-options.js';
import { DrainState } from './health/drain-state.js';
import type { QueryApiSettings } from './infrastructure/config.provider.js';
import type { LiveVersionCacheFactory } from './infrastructure/tokens.js';
import { observeGraphqlRequests, observeRestRequests } from './metrics/graphql-metrics.hook.js';
import { METRICS_ROUTE } from './rest/rest-paths.js';
import { QueryApiMetrics } from './metrics/query-api.metrics.js';
import type { MerchantDataWatermark } from './rest/merchant-data-watermark.js';
import { authenticateRestRequests } from './rest/rest-authentication.hook.js';
import { MAX_URL_LENGTH } from './rest/rest-paths.js';

export interface StartOptions extends LogOptions {
  /**
   * Makes the cache of the live version; by default a LiveVersionCache with
   * its 500 ms TTL (how late a promotion may be seen). Tests make one that
   * expires far more often than a clock could make it.
   */
  liveVersionCache?: LiveVersionCacheFactory;
  /** How the list of revoked tokens is kept; tests read it more often, or less, than the defaults. */
  revocations?: RevocationListOptions;
  /** Bound to MERCHANT_DATA_WATERMARK instead of the module's own: tests give one to switch the REST API's ETags on. */
  merchantDataWatermark?: MerchantDataWatermark;
}

/** Builds and starts the query API; main.ts and the tests both start it this way. */
export async function startQueryApi(config: QueryApiSettings, options: StartOptions = {}): Promise<NestFastifyApplication> {
  // While draining, requests already received are served (return503OnClosing: false); idle
  // keep-alive connections are closed so clients reconnect to another instance.
  // Fastify logs through the app's logger, each request's lines with its id (X-Request-Id when well-formed), sent back first.
  const logging = appLogging('query-api', options);
  // maxParamLength: the REST API's merchant id may be as long as any URL it accepts (its hook bounds the URL).
  const adapter = new FastifyAdapter({
    ...logging.fastify,
    bodyLimit: config.maxBodyBytes,
    forceCloseConnections: 'idle',
    return503OnClosing: false,
    routerOptions: { maxParamLength: MAX_URL_LENGTH },
  });
  const fastify = adapter.getInstance();
  logging.attach(fastify);

  const drain = new DrainState();
  fastify.addHook('onSend', async (_request, reply, payload) => {
    if (drain.draining) reply.header('connection', 'close');
    return payload;
  });
  // Plain Fastify hooks, added before Nest registers mercurius, so they wrap the GraphQL route:
  // refused requests are counted, and authentication runs before the body is even parsed.
  const metrics = new QueryApiMetrics();
  observeGraphqlRequests(fastify, { path: GRAPHQL_PATH, metrics });
  observeRestRequests(fastify, { route: METRICS_ROUTE, metrics });
  const revocations = new RevocationList(config.databaseUrl, options.revocations);
  // One authenticator for every API of this process: the same tokens, verified-token cache and revocations.
  const authenticator = new BearerAuthenticator(config.merchantJwtKeys, revocations);
  authenticateGraphqlRequests(fastify, { path: GRAPHQL_PATH, authenticator });
  authenticateRestRequests(fastify, { authenticator });
  // The merchants' web dashboard: static files, whose requests to /graphql are authenticated as any client's.
  void fastify.register(dashboardRoutes);

  const liveVersionCache = options.liveVersionCache ?? ((pool) => new LiveVersionCache(pool, PROJECTION_NAME));
  const app = await NestFactory.create<NestFastifyApplication>(QueryApiModule.forConfig(config, { drain, metrics, liveVersionCache, revocations, merchantDataWatermark: options.merchantDataWatermark }), adapter, {
    logger: logging.nest,
  });
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  const logger = new Logger('QueryApi');
  logger.log(`listening on ${await app.getUrl()}${GRAPHQL_PATH} (database ${redactUrl(config.databaseUrl)})`);
  if (config.usesDevSecret) {
    logger.warn('tokens are checked with the public development secret (MERCHANT_JWT_SECRET unset, or a key set to it); refused when NODE_ENV=production');
  }
  return app;
}
