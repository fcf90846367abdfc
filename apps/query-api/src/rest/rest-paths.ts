/** Everything of the REST API is under this prefix; a later incompatible version would be /v2. */
export const REST_PREFIX = '/v1';
/** Route paths as Fastify (find-my-way) writes them, and as OpenAPI does. */
export const METRICS_ROUTE = `${REST_PREFIX}/merchants/:merchantId/metrics`;
export const METRICS_PATH_TEMPLATE = `${REST_PREFIX}/merchants/{merchantId}/metrics`;
export const PAYMENTS_ROUTE = `${REST_PREFIX}/merchants/:merchantId/payments`;
export const PAYMENT_ROUTE = `${REST_PREFIX}/merchants/:merchantId/payments/:paymentId`;
export const PAYMENTS_PATH_TEMPLATE = `${REST_PREFIX}/merchants/{merchantId}/payments`;
export const PAYMENT_PATH_TEMPLATE = `${REST_PREFIX}/merchants/{merchantId}/payments/{paymentId}`;
export const OPENAPI_PATH = `${REST_PREFIX}/openapi.json`;
export const PROBLEMS_ROUTE = `${REST_PREFIX}/problems/:problem`;

/**
 * Longest request target (path and query) accepted, in bytes as sent. The
 * longest valid question is far shorter: a 128-character merchant id, each
 * character percent-encoded as three bytes of UTF-8 (1,152 bytes), and every
 * parameter at its longest (about 300).
 */
export const MAX_URL_LENGTH = 2048;

/** Route config of the routes anyone may read (no token): descriptions of the API, which hold no data. */
export const PUBLIC_ROUTE = { restPublic: true } as const;
