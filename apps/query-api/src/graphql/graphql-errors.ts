import { ErrorCode } from '../errors/error-codes.js';
import { GraphQLError } from './graphql-js.js';

/** The codes are shared with the REST API (errors/error-codes.ts). */
export { ErrorCode } from '../errors/error-codes.js';

export function graphQLError(code: ErrorCode, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

export const badUserInput = (message: string) => graphQLError(ErrorCode.BAD_USER_INPUT, message);
export const forbidden = (message: string) => graphQLError(ErrorCode.FORBIDDEN, message);
export const queryTooComplex = (message: string) => graphQLError(ErrorCode.QUERY_TOO_COMPLEX, message);
