import { Logger } from '@nestjs/common';
import type { MercuriusDriverConfig } from '@nestjs/mercurius';
import type { FastifyRequest } from 'fastify';
import type { QueryApiConfig } from '@app/config';
import { complexityRule } from './complexity.rule.js';
import { createErrorFormatter } from './error-formatter.js';
import { maxAliasesRule } from './max-aliases.rule.js';
import './query-context.js';

export const GRAPHQL_PATH = '/graphql';

/**
 * Mercurius as the Nest GraphQL driver, schema built code-first in memory.
 * Introspection stays on (merchants' developers generate clients from it);
 * GraphiQL is off (it would need the bearer token in a browser page); batching
 * is off (an array body would multiply everything the limits bound per operation).
 */
export function graphqlOptions(config: QueryApiConfig): Omit<MercuriusDriverConfig, 'driver'> {
  return {
    autoSchemaFile: true,
    path: GRAPHQL_PATH,
    graphiql: false,
    allowBatchedQueries: false,
    queryDepth: config.maxDepth,
    // The complexity rule needs each request's variables, and mercurius
    // refuses per-request rules together with its parsed-query cache.
    cache: false,
    validationRules: ({ variables, operationName }) => [
      maxAliasesRule(config.maxAliases),
      complexityRule(config.maxComplexity, variables, operationName),
    ],
    errorFormatter: createErrorFormatter(new Logger('GraphQL')),
    context: (request: FastifyRequest) => ({ principal: request.principal }),
  };
}
