/**
 * The codes this API answers with: GraphQL's `extensions.code` and the REST
 * API's problem `code`, one list for both. Clients branch on the code, never
 * on the message. The names follow Apollo's conventions, which most GraphQL
 * clients already know.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** Depth, cost or alias limit exceeded: simplify the query or split it. */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  /** Syntax errors and spec validation errors (unknown fields, wrong argument types...). */
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  /**
   * Refused at the HTTP level before GraphQL or the REST handler: body over
   * MAX_REQUEST_BYTES, unsupported content type, batched requests; an unknown
   * path or method, or a URL too long, under /v1.
   */
  BAD_REQUEST: 'BAD_REQUEST',
  /** The read model has no live version yet (no projector has caught up): retry later. */
  UNAVAILABLE: 'UNAVAILABLE',
  /**
   * The database cancelled the question after QUERY_STATEMENT_TIMEOUT_MS. Unlike
   * UNAVAILABLE, asking the same again rarely helps: ask a smaller question
   * (shorter range, coarser granularity, fewer groupBy dimensions).
   */
  QUERY_TIMEOUT: 'QUERY_TIMEOUT',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
