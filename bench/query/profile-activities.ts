import type { ActivityRules } from '../support/cpu-profile-summary.js';

/**
 * What the query API was doing, judged from each sample's whole stack: the
 * first rule (in this order) that matches any frame wins. Most specific first:
 * the pg driver runs inside resolvers, resolvers inside GraphQL execution.
 */
export const QUERY_API_ACTIVITIES: ActivityRules = [
  ['auth: token verification', (fn, url) => url.includes('/jose/') || fn === 'verifyMerchantToken' || fn === 'verifyMerchantTokenDetails'],
  ['pg driver (send, parse results)', (_, url) => url.includes('node_modules/pg') || url.includes('pg-protocol')],
  ['reader: plan buckets, validate, zones', (_, url) => /query\/(bucket-plan|time-buckets|zone-offsets|query-limits)/.test(url)],
  ['reader: assemble answer', (_, url) => /query\/(metrics-answer|metric-values)/.test(url)],
  ['reader: other (SQL text, freshness)', (_, url) => url.includes('merchant-metrics/src/query')],
  ['resolver: GraphQL model mapping', (_, url) => url.includes('merchant-metrics.mapper') || url.includes('graphql-model')],
  ['response JSON serialization', (fn, url) => url.includes('fast-json-stringify') || fn === 'serialize' || fn === 'stringify'],
  ['GraphQL parse + validate + cost', (_, url) => /graphql\/(language|validation|utilities)\//.test(url) || url.includes('graphql-query-complexity') || url.includes('complexity.rule') || url.includes('max-aliases')],
  ['GraphQL execution (graphql-js / jit)', (_, url) => /graphql\/(execution|type)\//.test(url) || url.includes('graphql-jit') || url.includes('generated')],
  ['Nest resolver pipeline', (_, url) => url.includes('@nestjs')],
  ['mercurius', (_, url) => url.includes('mercurius')],
  ['metrics (prom-client)', (_, url) => url.includes('prom-client')],
  ['HTTP: fastify / node http / sockets', (_, url) => url.includes('fastify') || url.startsWith('node:')],
];
