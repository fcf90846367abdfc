import { MerchantTokenError, verifyMerchantTokenDetails, type MerchantPrincipal, type MerchantTokenKeys } from '@app/access';
import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../graphql/graphql-errors.js';
import '../graphql/query-context.js';
import type { RevocationCheck } from './revocation-list.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** What the cache keeps of a verified token. */
export interface KnownToken {
  principal: MerchantPrincipal;
  jti: string;
}

/**
 * Authenticates every request to the GraphQL route before its body is read or
 * parsed: without a valid token the answer is HTTP 401 with a GraphQL-shaped
 * body (`data: null`, code UNAUTHENTICATED), and nothing runs, introspection
 * included. A revoked token (its `jti` on the revocation list) is refused the
 * same way; while the list cannot be checked, every token is refused with
 * HTTP 503 (code UNAVAILABLE). The token is never logged; the message says
 * only what was wrong. Verified tokens are remembered until their expiry
 * (VerifiedTokenCache): clients send the same token with every request.
 */
export function authenticateGraphqlRequests(
  fastify: FastifyInstance,
  options: { path: string; keys: MerchantTokenKeys; revocations: RevocationCheck; cache?: VerifiedTokenCache<KnownToken> },
): void {
  const cache = options.cache ?? new VerifiedTokenCache<KnownToken>();
  fastify.decorateRequest('principal', null);
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url !== options.path) return;
    const refuse = (status: number, code: ErrorCode, message: string) => {
      request.graphqlOutcome = code.toLowerCase();
      return reply.code(status).send({ data: null, errors: [{ message, extensions: { code } }] });
    };
    try {
      const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
      if (!token) throw new MerchantTokenError('missing "Authorization: Bearer <token>" header');
      let known = cache.get(token);
      if (known === undefined) {
        const verified = verifyMerchantTokenDetails(options.keys, token);
        known = { principal: verified.principal, jti: verified.jti };
        cache.set(token, known, verified.exp);
      }
      if (options.revocations.isRevoked(known.jti)) throw new MerchantTokenError('token has been revoked');
      const unavailable = options.revocations.unavailable();
      if (unavailable !== undefined) {
        reply.header('retry-after', '5');
        return refuse(503, ErrorCode.UNAVAILABLE, unavailable);
      }
      request.principal = known.principal;
    } catch (error) {
      if (!(error instanceof MerchantTokenError)) throw error;
      // RFC 6750: tell the client which scheme to use, and that the token it sent was refused.
      const challenge = request.headers.authorization ? 'Bearer realm="query-api", error="invalid_token"' : 'Bearer realm="query-api"';
      reply.header('www-authenticate', challenge);
      return refuse(401, ErrorCode.UNAUTHENTICATED, error.message);
    }
  });
}
