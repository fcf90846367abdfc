import type { ValidationContext, ValidationRule } from 'graphql';
import { createComplexityRule, fieldExtensionsEstimator, simpleEstimator } from 'graphql-query-complexity';
import { ErrorCode } from './graphql-errors.js';
import { GraphQLError } from './graphql-js.js';

/**
 * Cost of one merchantMetrics field (declared on the field as its `complexity`).
 * With the default QUERY_MAX_COMPLEXITY of 500, one operation runs at most four
 * of them, three with a full selection (140 each), however it aliases them.
 */
export const MERCHANT_METRICS_COST = 100;

/**
 * Prices the operation before it runs: a field costs its `complexity`
 * extension (merchantMetrics declares one), else 1. Lists are not multiplied:
 * the size of what merchantMetrics returns is bounded by the reader's own
 * bucket and range limits, not here. Needs the request's variables so that
 * `@include(if: $x)` is evaluated as the request will run.
 */
export function complexityRule(maximumComplexity: number, variables: Record<string, unknown> | undefined, operationName: string | undefined): ValidationRule {
  const rule = createComplexityRule({
    maximumComplexity,
    variables: variables ?? {},
    operationName,
    estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
    createError: (max, actual) =>
      new GraphQLError(`the query costs ${actual}, more than the limit of ${max}; merchantMetrics costs ${MERCHANT_METRICS_COST} and every other field 1`, {
        extensions: { code: ErrorCode.QUERY_TOO_COMPLEX },
      }),
  });
  // The rule also reports arguments it cannot coerce, which graphql's own
  // rules already report with a better message: keep only its verdict on cost.
  return (context) =>
    rule(
      Object.create(context, {
        reportError: {
          value: (error: GraphQLError) => {
            if (error.extensions?.code === ErrorCode.QUERY_TOO_COMPLEX) context.reportError(error);
          },
        },
      }) as ValidationContext,
    );
}
