import type { FastifyInstance } from 'fastify';
import '../graphql/query-context.js';
import type { BearerAuthenticator } from './bearer-authenticator.js';

/**
 * Authenticates every request to the GraphQL route before its body is read or
 * parsed: without a valid token the answer is HTTP 401 with a GraphQL-shaped
 * body (`data: null`, code UNAUTHENTICATED), and nothing runs, introspection
 * included. A revoked token is refused the same way; while revocations cannot
 * be checked, every token is refused with HTTP 503 (code UNAVAILABLE). The
 * check itself is BearerAuthenticator's, which the REST API shares.
 */
export function authenticateGraphqlRequests(fastify: FastifyInstance, options: { path: string; authenticator: BearerAuthenticator }): void {
  if (!fastify.hasRequestDecorator('principal')) fastify.decorateRequest('principal', null);
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url !== options.path) return;
    const { principal, refusal } = options.authenticator.authenticate(request.headers.authorization);
    if (refusal === undefined) {
      request.principal = principal;
      return;
    }
    request.graphqlOutcome = refusal.code.toLowerCase();
    return reply.code(refusal.status).headers(refusal.headers).send({ data: null, errors: [{ message: refusal.message, extensions: { code: refusal.code } }] });
  });
}
