import type { DocumentNode, GraphQLSchema } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { ErrorCode } from './graphql-errors.js';
import { getOperationAST, GraphQLError, Kind } from './graphql-js.js';

/**
 * Cost of one merchantMetrics field (declared on the field as its `complexity`).
 * With the default QUERY_MAX_COMPLEXITY of 500, one operation runs at most four
 * of them, three with a full selection (140 each), however it aliases them.
 */
export const MERCHANT_METRICS_COST = 100;

/** Cost of one payments or payment field: one index range of at most 100 rows, or one row and its events. */
export const PAYMENTS_COST = 50;

const ESTIMATORS = [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })];

/**
 * What the operation costs: a field costs its `complexity` extension
 * (merchantMetrics declares one), else 1. Lists are not multiplied: the size
 * of what merchantMetrics returns is bounded by the reader's own bucket and
 * range limits, not here. `@include(if: $x)`/`@skip(if: $x)` are evaluated
 * with the request's variables. Undefined when the variables cannot be
 * coerced: execution then refuses them with a better message. An operation
 * that cannot be priced otherwise (graphql-query-complexity stops counting at
 * 10,000 fields, fragments counted at each use) costs Infinity.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
): number | undefined {
  try {
    return getComplexity({ schema, query: document, variables: variables ?? {}, operationName, estimators: ESTIMATORS });
  } catch (error) {
    return /^Variable "\$/.test((error as Error).message) ? undefined : Infinity;
  }
}

/** True when an @include or @skip takes its condition from a variable, so the cost depends on the request. */
function costDependsOnVariables(document: DocumentNode): boolean {
  const seen = new Set<unknown>();
  const walk = (node: unknown): boolean => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return false;
    seen.add(node);
    const n = node as { kind?: string; name?: { value: string }; arguments?: Array<{ value: { kind: string } }> };
    if (n.kind === Kind.DIRECTIVE && (n.name?.value === 'include' || n.name?.value === 'skip')) {
      if (n.arguments?.some((a) => a.value.kind === Kind.VARIABLE)) return true;
    }
    return Object.values(node).some(walk);
  };
  return walk(document);
}

/**
 * Costs per parsed document. Mercurius hands every request with the same query
 * text the same cached document, so the cost of the usual query (no
 * variable-dependent @include/@skip) is computed once per operation name.
 * Field costs are constants here (MERCHANT_METRICS_COST, 1); a `complexity`
 * computed from arguments would make every cost depend on the variables.
 */
const costs = new WeakMap<DocumentNode, Map<string, number> | 'per-request'>();

export function cachedOperationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
): number | undefined {
  let byOperation = costs.get(document);
  if (byOperation === undefined) {
    byOperation = costDependsOnVariables(document) ? 'per-request' : new Map();
    costs.set(document, byOperation);
  }
  if (byOperation === 'per-request') return operationCost(schema, document, variables, operationName);
  const key = operationName ?? '';
  let cost = byOperation.get(key);
  if (cost === undefined) {
    cost = operationCost(schema, document, variables, operationName);
    // Undefined (variables that cannot be coerced) says nothing about the next request's variables.
    if (cost === undefined) return undefined;
    byOperation.set(key, cost);
  }
  return cost;
}

interface HookContext {
  reply?: { request?: { method?: string; body?: unknown; query?: unknown } };
}

function operationNameOf(context: HookContext): string | undefined {
  const request = context.reply?.request;
  const params = (request?.method === 'GET' ? request.query : request?.body) as { operationName?: unknown } | undefined;
  return typeof params?.operationName === 'string' ? params.operationName : undefined;
}

/** Refused the way mercurius refuses a document that fails validation: HTTP 400, the error in `errors`. */
function refuse(error: GraphQLError): never {
  throw Object.assign(new Error('Graphql validation error'), { code: 'MER_ERR_GQL_VALIDATION', statusCode: 400, errors: [error] });
}

/**
 * Prices the operation before it runs and refuses it (HTTP 400,
 * QUERY_TOO_COMPLEX) above `maximumComplexity`. A mercurius preExecution hook
 * rather than a validation rule: the cost needs the request's variables, and
 * per-request validation rules would rule out mercurius's cache of parsed and
 * validated documents (and so its JIT). Runs after the document was validated
 * and its variables coerced.
 *
 * First, the operation the request names must be in the document (or the
 * document must have exactly one when it names none): priced, an unknown
 * name costs nothing, while a document compiled by graphql-jit runs its one
 * operation whatever name the request gives.
 */
export function complexityHook(maximumComplexity: number) {
  return async (schema: GraphQLSchema, document: DocumentNode, context: HookContext, variables: Record<string, unknown> | undefined): Promise<void> => {
    const operationName = operationNameOf(context);
    if (getOperationAST(document, operationName) === null) {
      refuse(new GraphQLError(
        operationName === undefined ? 'Must provide operation name if query contains multiple operations.' : `Unknown operation named "${operationName}".`,
        { extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED } },
      ));
    }
    const cost = cachedOperationCost(schema, document, variables, operationName);
    if (cost === undefined || cost <= maximumComplexity) return;
    const costs = Number.isFinite(cost) ? `costs ${cost}` : 'has more than 10000 fields';
    refuse(new GraphQLError(
      `the query ${costs}, more than the limit of ${maximumComplexity}; merchantMetrics costs ${MERCHANT_METRICS_COST} and every other field 1`,
      { extensions: { code: ErrorCode.QUERY_TOO_COMPLEX } },
    ));
  };
}
