import { Logger } from '@nestjs/common';
import type { MercuriusDriverConfig } from '@nestjs/mercurius';
import type { FastifyRequest } from 'fastify';
import type { QueryApiConfig } from '@app/config';
import { complexityHook } from './complexity.rule.js';
import { interpretMultiOperationDocuments } from './jit-guard.js';
import { withDefaultFieldResolvers } from './default-field-resolvers.js';
import { createErrorFormatter } from './error-formatter.js';
import { maxAliasesRule } from './max-aliases.rule.js';
import './query-context.js';

export const GRAPHQL_PATH = '/graphql';

/** Most tokens in one GraphQL document (the standard introspection query has 163). */
export const MAX_DOCUMENT_TOKENS = 2000;

/**
 * Mercurius as the Nest GraphQL driver, schema built code-first in memory.
 * Introspection stays on (merchants' developers generate clients from it);
 * GraphiQL is off (it would need the bearer token in a browser page); batching
 * is off (an array body would multiply everything the limits bound per operation).
 */
export function graphqlOptions(config: QueryApiConfig): Omit<MercuriusDriverConfig, 'driver'> {
  return {
    autoSchemaFile: true,
    transformSchema: withDefaultFieldResolvers,
    path: GRAPHQL_PATH,
    graphiql: false,
    allowBatchedQueries: false,
    queryDepth: config.maxDepth,
    // Parsed and validated documents are cached by query text (clients send
    // the same few queries with new variables). Validation rules must then be
    // the same for every request: the cost, which needs the variables, is
    // checked in a hook. A document asked twice is compiled with graphql-jit,
    // off the request path (adaptive mode; with the numeric option, the request
    // that triggers the compilation skips variable validation and a bad
    // variable would be answered with HTTP 200 instead of 400); eluThreshold 1
    // compiles even while the event loop is busy, which is when it pays.
    cache: 1024,
    jit: { minCount: 2, eluThreshold: 1 },
    validationRules: [maxAliasesRule(config.maxAliases)],
    // Parsing is bounded before anything else: a 64 KiB document of 5,000 fields took 0.45 s to validate.
    graphql: { parseOptions: { maxTokens: MAX_DOCUMENT_TOKENS } },
    hooks: { preExecution: [complexityHook(config.maxComplexity), interpretMultiOperationDocuments] },
    errorFormatter: createErrorFormatter(new Logger('GraphQL')),
    // liveVersion (QueryContext's LiveVersionPin) is there from the start: every context has one shape.
    context: (request: FastifyRequest) => ({ principal: request.principal, liveVersion: undefined }),
  };
}
