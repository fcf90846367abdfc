import type { FastifyInstance } from 'fastify';
import type { BearerAuthenticator } from '../auth/bearer-authenticator.js';
import '../graphql/query-context.js';
import { PROBLEM_TYPES, Problem, problemTypeOf, sendProblem } from './problem.js';
import { MAX_URL_LENGTH, REST_PREFIX } from './rest-paths.js';

/**
 * Every request to a route under /v1 is authenticated before its handler
 * runs, as GraphQL's are (BearerAuthenticator: the same tokens, cache and
 * revocations), and refused as a problem: 401 UNAUTHENTICATED with
 * `WWW-Authenticate: Bearer`, or 503 UNAVAILABLE while revocations cannot be
 * checked. The unknown paths under /v1 are a route too (the fallback
 * controller), so they are refused alike: an anonymous client learns nothing
 * of which paths exist. Only the routes marked PUBLIC_ROUTE (the OpenAPI
 * document and the problem types) are let through without a token. Then a
 * request target longer than MAX_URL_LENGTH is refused with 414.
 */
export function authenticateRestRequests(fastify: FastifyInstance, options: { authenticator: BearerAuthenticator }): void {
  if (!fastify.hasRequestDecorator('principal')) fastify.decorateRequest('principal', null);
  fastify.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === undefined || !route.startsWith(`${REST_PREFIX}/`)) return;
    if ((request.routeOptions.config as { restPublic?: boolean } | undefined)?.restPublic !== true) {
      const { principal, refusal } = options.authenticator.authenticate(request.headers.authorization);
      if (refusal !== undefined) return sendProblem(reply, new Problem(problemTypeOf(refusal.code), refusal.message, refusal.headers));
      request.principal = principal;
    }
    if (request.url.length > MAX_URL_LENGTH) {
      return sendProblem(reply, new Problem(PROBLEM_TYPES.uriTooLong, `the request target has ${request.url.length} bytes; at most ${MAX_URL_LENGTH} are accepted`));
    }
  });
}
