import type { MerchantPrincipal } from '@app/access';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LiveVersionPin } from '../merchants/queries/merchant-metrics/merchant-metrics.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook before any GraphQL request reaches mercurius. */
    principal: MerchantPrincipal | null;
    /** The first error code of a GraphQL answer (lower case), or null when it had none; read by the metrics hook. */
    graphqlOutcome: string | null;
  }
}

/** The GraphQL context of one request; its merchantMetrics fields all answer from the version it pins. */
export interface QueryContext extends LiveVersionPin {
  principal: MerchantPrincipal;
  req: FastifyRequest;
  reply: FastifyReply;
}
