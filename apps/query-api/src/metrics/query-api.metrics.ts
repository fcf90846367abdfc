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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
