import type { FastifyInstance } from 'fastify';
import '../graphql/query-context.js';
import type { QueryApiMetrics } from './query-api.metrics.js';

/**
 * Counts and times every request to the GraphQL route, refused ones included.
 * The outcome is the first GraphQL error code (set by the authentication hook
 * or the error formatter), `ok` without errors, `http_<status>` otherwise.
 */
export function observeGraphqlRequests(fastify: FastifyInstance, options: { path: string; metrics: QueryApiMetrics }): void {
  fastify.decorateRequest('graphqlOutcome', null);
  fastify.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url !== options.path) return;
    const outcome = request.graphqlOutcome ?? (reply.statusCode < 400 ? 'ok' : `http_${reply.statusCode}`);
    options.metrics.requests.inc({ outcome });
    options.metrics.requestDuration.observe({ outcome }, reply.elapsedTime / 1000);
  });
}

/** Counts and times every request to the REST metrics route (`route`, as Fastify names it), refused ones included. */
export function observeRestRequests(fastify: FastifyInstance, options: { route: string; metrics: QueryApiMetrics }): void {
  fastify.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url !== options.route) return;
    const outcome = reply.statusCode === 304 ? 'not_modified' : reply.statusCode < 400 ? 'ok' : `http_${reply.statusCode}`;
    options.metrics.restRequests.inc({ outcome });
    options.metrics.restRequestDuration.observe({ outcome }, reply.elapsedTime / 1000);
  });
}
