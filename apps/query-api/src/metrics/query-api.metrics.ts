import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of the query API. */
export class QueryApiMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'query_api_requests_total',
    help: 'GraphQL requests by outcome: ok, or the first error code in lower case (unauthenticated, forbidden, bad_user_input, query_too_complex...)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'query_api_request_duration_seconds',
    help: 'GraphQL request latency by outcome',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly freshnessLag = new Gauge({
    name: 'query_api_answer_lag_seconds',
    help: 'Freshness lag (now - asOf) of the latest metrics answer: how far behind the read model was',
    registers: [this.registry],
  });

  readonly restRequests = new Counter({
    name: 'query_api_rest_requests_total',
    help: 'REST requests to the metrics route by outcome: ok, not_modified (304 from an ETag), or http_<status> for a problem',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly restRequestDuration = new Histogram({
    name: 'query_api_rest_request_duration_seconds',
    help: 'REST metrics request latency by outcome',
    labelNames: ['outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly answerCacheLookups = new Counter({
    name: 'query_api_answer_cache_lookups_total',
    help: 'Metrics answers by how they were served: hit (from the answer cache, the merchant\'s data unchanged), miss (read from the read model) or bypass (read, the merchant\'s data changing too often to cache)',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly answerCacheBytes = new Gauge({
    name: 'query_api_answer_cache_bytes',
    help: 'Estimated bytes of answers the cache holds (at most QUERY_CACHE_MB)',
    registers: [this.registry],
  });
  readonly answerCacheEntries = new Gauge({
    name: 'query_api_answer_cache_entries',
    help: 'Answers the cache holds',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
