import type { ASTVisitor, ValidationContext } from 'graphql';
import { GraphQLError } from './graphql-js.js';
import { ErrorCode } from './graphql-errors.js';

/**
 * Counts aliased fields in the whole document. Aliases are how one request
 * asks for the same expensive field many times (`a: merchantMetrics(...)
 * b: merchantMetrics(...)` ...); the complexity limit prices that too, this
 * rule just says so plainly and stops alias floods of cheap fields early.
 */
export function maxAliasesRule(maxAliases: number): (context: ValidationContext) => ASTVisitor {
  return (context) => {
    let aliases = 0;
    return {
      Field(node) {
        if (node.alias && ++aliases === maxAliases + 1) {
          context.reportError(
            new GraphQLError(`the query uses more than ${maxAliases} aliases`, { nodes: [node], extensions: { code: ErrorCode.QUERY_TOO_COMPLEX } }),
          );
        }
      },
    };
  };
}
