import type { FastifyReply } from 'fastify';
import { ErrorCode } from '../errors/error-codes.js';
import { REST_PREFIX } from './rest-paths.js';

/**
 * The kinds of problem the REST API answers with (RFC 9457). Each has its
 * type URI, `${REST_PREFIX}/problems/<slug>` (a relative reference with its
 * full path, which answers a description of the problem when dereferenced),
 * a fixed title and status, and the `code` GraphQL gives the same failure.
 */
export interface ProblemType {
  slug: string;
  status: number;
  code: ErrorCode;
  title: string;
  /** What it means and what to do, for the problem's page and the OpenAPI document. */
  description: string;
}

const type = (slug: string, status: number, code: ErrorCode, title: string, description: string): ProblemType => ({ slug, status, code, title, description });

export const PROBLEM_TYPES = {
  badUserInput: type('bad-user-input', 400, ErrorCode.BAD_USER_INPUT, 'Bad parameter',
    'A parameter is missing, unknown, given twice, malformed (an enum value, a date-time without an offset, an unknown time zone), or the question is beyond a limit (range, buckets, series); the detail names it. Asking the same again gets the same answer.'),
  unauthenticated: type('unauthenticated', 401, ErrorCode.UNAUTHENTICATED, 'Not authenticated',
    'No valid bearer token: missing, malformed, badly signed, signed with an unknown key, expired, without jti, or revoked. Ask for a new token.'),
  forbidden: type('forbidden', 403, ErrorCode.FORBIDDEN, 'Forbidden',
    'The token is valid but may not read this merchant: a merchant token reads its own merchant only.'),
  notFound: type('not-found', 404, ErrorCode.BAD_REQUEST, 'Not found', `No such resource under ${REST_PREFIX}; the OpenAPI document lists them.`),
  methodNotAllowed: type('method-not-allowed', 405, ErrorCode.BAD_REQUEST, 'Method not allowed', 'The resource answers GET (and HEAD) only; see the Allow header.'),
  uriTooLong: type('uri-too-long', 414, ErrorCode.BAD_REQUEST, 'URI too long', 'The request target is longer than any valid question; nothing was read.'),
  internal: type('internal', 500, ErrorCode.INTERNAL_SERVER_ERROR, 'Internal error', 'An unexpected failure; it has been logged with the request id (X-Request-Id).'),
  unavailable: type('unavailable', 503, ErrorCode.UNAVAILABLE, 'Unavailable',
    'The read model has no live version yet, or token revocations cannot be checked at the moment: retry after the Retry-After header\'s seconds.'),
  queryTimeout: type('query-timeout', 504, ErrorCode.QUERY_TIMEOUT, 'Query timed out',
    'The database cancelled the question after the statement timeout. Asking the same again rarely helps: ask for a shorter range, a coarser granularity or fewer groupBy dimensions.'),
} as const satisfies Record<string, ProblemType>;

/** The problem type of a code the shared code (authentication, the read side) fails with. */
export function problemTypeOf(code: ErrorCode): ProblemType {
  const found = Object.values(PROBLEM_TYPES).find((t) => t.code === code && t.code !== ErrorCode.BAD_REQUEST);
  return found ?? PROBLEM_TYPES.internal;
}

export const typeUri = (problemType: ProblemType) => `${REST_PREFIX}/problems/${problemType.slug}`;

/** A failure of a REST request, answered as application/problem+json. */
export class Problem extends Error {
  override readonly name = 'Problem';

  constructor(
    readonly problemType: ProblemType,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
}

export function problemBody(problemType: ProblemType, detail: string): ProblemBody {
  return { type: typeUri(problemType), title: problemType.title, status: problemType.status, detail, code: problemType.code };
}

/** Problems are stored by no cache (no-store): most say something of one moment (a token's state, the read model's), and none is worth keeping. */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.problemType.status)
    .headers({ ...problem.headers, 'content-type': 'application/problem+json; charset=utf-8', 'cache-control': 'no-store' })
    .send(JSON.stringify(problemBody(problem.problemType, problem.detail)));
}
