import type { JsonSchema } from './graphql-json-schema.js';
import type { MetricsApiDefinitions } from './metrics-api-contract.js';
import { PROBLEM_TYPES, typeUri, type ProblemType } from './problem.js';
import { MAX_URL_LENGTH, METRICS_PATH_TEMPLATE, OPENAPI_PATH, PAYMENT_PATH_TEMPLATE, PAYMENTS_PATH_TEMPLATE, REST_PREFIX } from './rest-paths.js';

const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };

/** RFC 9457 problem details, with the code GraphQL gives the same failure in `extensions.code`. */
const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'An RFC 9457 problem (application/problem+json). Clients branch on `code` (the same as GraphQL\'s `extensions.code`) or `type`, never on `detail`.',
  properties: {
    type: { type: 'string', format: 'uri-reference', enum: Object.values(PROBLEM_TYPES).map(typeUri), description: 'The problem type; dereferenced, a description of it.' },
    title: { type: 'string', description: "The type's fixed title." },
    status: { type: 'integer', minimum: 400, maximum: 599, description: 'The HTTP status of the answer.' },
    detail: { type: 'string', description: 'What was wrong with this request (the parameter it names, the limit it passed).' },
    code: { type: 'string', enum: [...new Set(Object.values(PROBLEM_TYPES).map((t) => t.code))], description: "The same code as GraphQL's `extensions.code`." },
  },
  required: ['type', 'title', 'status', 'detail', 'code'],
};

const header = (description: string, schema: JsonSchema = { type: 'string' }) => ({ description, schema });
const CACHE_CONTROL = header('`private, no-cache`: a client may keep the answer, shared caches may not, and it is revalidated before each use (it changes with every payment the merchant records).');
const ETAG = header(
  'A weak validator of the answer (RFC 9110): it stays while the read-model version and the merchant\'s data do, although the freshness the answer carries (asOf, lagSeconds) moves on. Sent only when the server can tell the version of the merchant\'s data.',
);
const RETRY_AFTER = header('Seconds to wait before asking again.', { type: 'integer', minimum: 0 });

function problemResponse(problemType: ProblemType, headers?: Record<string, unknown>) {
  return {
    description: `${problemType.title} (\`${problemType.code}\`). ${problemType.description}`,
    ...(headers ? { headers } : {}),
    content: { 'application/problem+json': { schema: PROBLEM_REF } },
  };
}

/**
 * The OpenAPI 3.1 document of the REST API, from the same definitions as the
 * query parser (the GraphQL field's arguments and result, see
 * metrics-api-contract.ts) and the same problem types as the handlers.
 */
export function openApiDocument(definitions: MetricsApiDefinitions): JsonSchema {
  const parameters = definitions.parameters.map((p) => ({
    name: p.name,
    in: p.in,
    required: p.required,
    ...(p.description ? { description: p.description } : {}),
    ...(p.list ? { style: 'form', explode: true } : {}),
    schema: p.schema,
  }));
  const problems = PROBLEM_TYPES;
  return {
    openapi: '3.1.0',
    info: {
      title: 'Merchant payment analytics: query API (REST)',
      version: '1',
      description:
        `The metrics GraphQL's \`merchantMetrics\` answers, over plain HTTP: the same authentication (a bearer JWT), authorization, limits and answer ` +
        '(amounts are strings of integer minor units, counts JSON numbers). Errors are RFC 9457 problems whose `code` is the GraphQL error code. ' +
        `Requests are at most ${MAX_URL_LENGTH} bytes of path and query.`,
    },
    paths: {
      [METRICS_PATH_TEMPLATE]: {
        get: {
          operationId: 'getMerchantMetrics',
          summary: "A merchant's payment metrics over a range",
          ...(definitions.description ? { description: definitions.description } : {}),
          parameters: [
            ...parameters,
            {
              name: 'If-None-Match',
              in: 'header',
              required: false,
              description: 'An ETag of an earlier answer to the same question: answered 304, without reading the metrics, while the merchant\'s data is unchanged.',
              schema: { type: 'string' },
            },
          ],
          responses: {
            '200': {
              description: 'The answer.',
              headers: { 'Cache-Control': CACHE_CONTROL, ETag: ETAG },
              content: { 'application/json': { schema: definitions.answer.root } },
            },
            '304': { description: 'The answer of the If-None-Match ETag is still the answer.', headers: { 'Cache-Control': CACHE_CONTROL, ETag: ETAG } },
            '400': problemResponse(problems.badUserInput),
            '401': problemResponse(problems.unauthenticated, { 'WWW-Authenticate': header('`Bearer realm="query-api"`, with `error="invalid_token"` when a token was sent (RFC 6750).') }),
            '403': problemResponse(problems.forbidden),
            '405': problemResponse(problems.methodNotAllowed, { Allow: header('`GET, HEAD`') }),
            '414': problemResponse(problems.uriTooLong),
            '500': problemResponse(problems.internal),
            '503': problemResponse(problems.unavailable, { 'Retry-After': RETRY_AFTER }),
            '504': problemResponse(problems.queryTimeout),
          },
        },
      },
      [PAYMENTS_PATH_TEMPLATE]: {
        get: {
          operationId: 'getMerchantPayments',
          summary: "A page of a merchant's payments, newest first",
          description:
            "GraphQL's `payments`. Filters an index serves: paymentId (with any other); customerId (with storeId, method, status, minAmount, maxAmount); " +
            'one of storeId, method or status; or none; each with from/to. Other combinations are refused with 400. Page on with `after` = `pageInfo.endCursor`.',
          parameters: [
            { name: 'merchantId', in: 'path', required: true, schema: { type: 'string' } },
            ...['paymentId', 'customerId', 'storeId', 'method', 'after'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string', maxLength: 512 } })),
            { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'FAILED', 'REFUND_ONLY'] } },
            ...['minAmount', 'maxAmount'].map((name) => ({ name, in: 'query', required: false, description: 'Integer minor units, inclusive.', schema: { type: 'string', pattern: '^[0-9]{1,19}$' } })),
            ...['from', 'to'].map((name) => ({ name, in: 'query', required: false, description: 'RFC 3339 with an offset; from inclusive, to exclusive.', schema: { type: 'string', format: 'date-time' } })),
            { name: 'first', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
          ],
          responses: {
            '200': { description: '`{ payments: Payment[], pageInfo: { hasNextPage, endCursor } }`, the fields of GraphQL\'s Payment.', content: { 'application/json': { schema: { type: 'object' } } } },
            '400': problemResponse(problems.badUserInput),
            '401': problemResponse(problems.unauthenticated),
            '403': problemResponse(problems.forbidden),
            '503': problemResponse(problems.unavailable, { 'Retry-After': RETRY_AFTER }),
            '504': problemResponse(problems.queryTimeout),
          },
        },
      },
      [PAYMENT_PATH_TEMPLATE]: {
        get: {
          operationId: 'getMerchantPayment',
          summary: 'One payment with its events',
          parameters: ['merchantId', 'paymentId'].map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
          responses: {
            '200': { description: "GraphQL's PaymentDetail: the payment's fields, `history` (its stored events) and `archivedEvents`.", content: { 'application/json': { schema: { type: 'object' } } } },
            '401': problemResponse(problems.unauthenticated),
            '403': problemResponse(problems.forbidden),
            '404': problemResponse(problems.notFound),
            '503': problemResponse(problems.unavailable, { 'Retry-After': RETRY_AFTER }),
          },
        },
      },
      [OPENAPI_PATH]: {
        get: {
          operationId: 'getOpenApiDocument',
          summary: 'This document',
          description: 'Public: it describes the API and holds no data.',
          security: [],
          responses: { '200': { description: 'The OpenAPI 3.1 document.', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
      [`${REST_PREFIX}/problems/{problem}`]: {
        get: {
          operationId: 'getProblemType',
          summary: 'What a problem type means',
          description: "Public: a problem's `type` dereferenced.",
          security: [],
          parameters: [{ name: 'problem', in: 'path', required: true, schema: { type: 'string', enum: Object.values(problems).map((t) => t.slug) } }],
          responses: {
            '200': { description: 'Its title, status, code and meaning.', content: { 'text/plain': { schema: { type: 'string' } } } },
            '404': problemResponse(problems.notFound),
          },
        },
      },
    },
    components: {
      schemas: { ...definitions.answer.schemas, Problem: PROBLEM_SCHEMA },
      securitySchemes: {
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A query API token (`npm run ops -- tokens merchant ID`): a merchant token reads that merchant, an ops token any.',
        },
      },
    },
    security: [{ bearerToken: [] }],
  };
}
