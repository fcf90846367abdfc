import { MerchantTokenError, verifyMerchantToken } from '@app/access';
import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../graphql/graphql-errors.js';
import '../graphql/query-context.js';
import { expiryOf, VerifiedTokenCache } from './verified-token-cache.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Authenticates every request to the GraphQL route before its body is read or
 * parsed: without a valid token the answer is HTTP 401 with a GraphQL-shaped
 * body (`data: null`, code UNAUTHENTICATED), and nothing runs, introspection
 * included. The token is never logged; the message says only what was wrong.
 * Verified tokens are remembered until their expiry (VerifiedTokenCache):
 * clients send the same token with every request.
 */
export function authenticateGraphqlRequests(
  fastify: FastifyInstance,
  options: { path: string; secret: string; cache?: VerifiedTokenCache },
): void {
  const cache = options.cache ?? new VerifiedTokenCache();
  fastify.decorateRequest('principal', null);
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url !== options.path) return;
    try {
      const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
      if (!token) throw new MerchantTokenError('missing "Authorization: Bearer <token>" header');
      const known = cache.get(token);
      if (known !== undefined) {
        request.principal = known;
        return;
      }
      request.principal = await verifyMerchantToken(options.secret, token);
      cache.set(token, request.principal, expiryOf(token));
    } catch (error) {
      if (!(error instanceof MerchantTokenError)) throw error;
      request.graphqlOutcome = ErrorCode.UNAUTHENTICATED.toLowerCase();
      // RFC 6750: tell the client which scheme to use, and that the token it sent was refused.
      const challenge = request.headers.authorization ? 'Bearer realm="query-api", error="invalid_token"' : 'Bearer realm="query-api"';
      return reply
        .code(401)
        .header('www-authenticate', challenge)
        .send({ data: null, errors: [{ message: error.message, extensions: { code: ErrorCode.UNAUTHENTICATED } }] });
    }
  });
}
