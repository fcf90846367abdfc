import { Catch } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError } from './graphql-js.js';

/**
 * Resolvers throw GraphQLErrors on purpose (FORBIDDEN, BAD_USER_INPUT...):
 * they are answers, not failures, so they go back to GraphQL as they are
 * instead of being logged as errors by Nest's default handler. Anything else
 * still reaches that handler, which logs it.
 */
@Catch(GraphQLError)
export class GraphQLErrorPassthrough implements GqlExceptionFilter {
  catch(error: GraphQLError): GraphQLError {
    return error;
  }
}
