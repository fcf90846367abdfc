import type { Logger } from '@nestjs/common';
import type { ExecutionResult, GraphQLFormattedError } from 'graphql';
import type { MercuriusContext } from 'mercurius';
import { ErrorCode } from './graphql-errors.js';
import { GraphQLError } from './graphql-js.js';

const INTERNAL_MESSAGE = 'internal error; it has been logged';

/** Mercurius wraps syntax, validation, depth and variable errors in one error holding them all. */
function flatten(errors: readonly GraphQLError[]): Array<{ error: GraphQLError; statusCode?: number; mercuriusCode?: string }> {
  return errors.flatMap((error) => {
    const original = error.originalError as (Error & { errors?: unknown[]; statusCode?: number; code?: string }) | undefined;
    if (Array.isArray(original?.errors)) {
      return original.errors.map((inner) => ({
        error: inner instanceof GraphQLError ? inner : new GraphQLError((inner as Error).message, { originalError: inner as Error }),
        statusCode: original.statusCode,
        mercuriusCode: (inner as { code?: string }).code ?? original.code,
      }));
    }
    return [{ error, statusCode: original?.statusCode, mercuriusCode: original?.code }];
  });
}

function codeOf(error: GraphQLError, statusCode: number | undefined, mercuriusCode: string | undefined): ErrorCode {
  const code = error.extensions?.code;
  if (typeof code === 'string' && Object.values(ErrorCode).includes(code as ErrorCode)) return code as ErrorCode;
  if (mercuriusCode === 'MER_ERR_GQL_QUERY_DEPTH') return ErrorCode.QUERY_TOO_COMPLEX;
  // Syntax, spec validation and variable coercion errors: the client's mistake; their messages are safe to return.
  if (mercuriusCode === 'MER_ERR_GQL_VALIDATION') return ErrorCode.GRAPHQL_VALIDATION_FAILED;
  // Refused by HTTP before GraphQL: body too large, wrong content type, a batch (an array body)...
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) return ErrorCode.BAD_REQUEST;
  return ErrorCode.INTERNAL_SERVER_ERROR;
}

/**
 * Every error leaves with an `extensions.code`. Unexpected errors lose their
 * message (it may hold SQL or connection details) and are logged here with the
 * request's id (through its reply's logger); one from a resolver Nest has logged
 * already, without that id, so here it is only named, by path. The HTTP status
 * is 200 for execution errors (graphql-over-http), 4xx for a request refused
 * before execution; the first code becomes the request's metrics outcome.
 */
export function createErrorFormatter(logger: Logger) {
  return (execution: ExecutionResult & Required<Pick<ExecutionResult, 'errors'>>, context: MercuriusContext): { statusCode: number; response: ExecutionResult } => {
    let statusCode = 200;
    const errors: GraphQLFormattedError[] = flatten(execution.errors).map(({ error, statusCode: status, mercuriusCode }) => {
      const code = codeOf(error, status, mercuriusCode);
      if (!execution.data && status !== undefined && status >= 400) statusCode = status;
      if (code !== ErrorCode.INTERNAL_SERVER_ERROR) {
        // Mercurius quotes its depth message in backticks.
        const message = mercuriusCode === 'MER_ERR_GQL_QUERY_DEPTH' ? error.message.replace(/^`|`$/g, '') : error.message;
        return { ...error.toJSON(), message, extensions: { ...error.extensions, code } };
      }
      const log = context.reply?.log;
      if (log && error.path) log.error({ path: error.path.join('.'), err: { message: (error.originalError ?? error).message } }, 'GraphQL resolver failed');
      else if (log) log.error({ err: error.originalError ?? error }, 'GraphQL request failed');
      else if (!error.path) logger.error(error.originalError ?? error);
      return { message: INTERNAL_MESSAGE, locations: error.locations, path: error.path, extensions: { code } };
    });
    if (context.reply) context.reply.request.graphqlOutcome = String(errors[0]?.extensions?.code ?? 'error').toLowerCase();
    return { statusCode, response: { data: execution.data ?? null, errors: errors as unknown as GraphQLError[] } };
  };
}
