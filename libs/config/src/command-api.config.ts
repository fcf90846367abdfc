import { readInt, readString, readUrl } from './env.js';
import { readMonitoringConfig, type MonitoringConfig } from './monitoring.config.js';

export interface CommandApiConfig extends MonitoringConfig {
  databaseUrl: string;
  natsUrl: string;
  host: string;
  port: number;
  /** How far in the future an event's occurredAt may lie (producer clock skew). */
  maxFutureSkewMs: number;
  maxBodyBytes: number;
  /** A request's body must have arrived this long after its headers, or the request is cut (deadline_exceeded). */
  bodyTimeoutMs: number;
  /** Requests processed at once; beyond this the API answers resource_exhausted. */
  maxInFlightRequests: number;
  databasePoolSize: number;
  /** Events per JetStream message published by the relay. */
  publishBatchSize: number;
  /** Appends (group commits) running at once. */
  appendConcurrency: number;
  /** Most events merged into one group commit. */
  appendGroupEvents: number;
}

export function loadCommandApiConfig(env: Record<string, string | undefined> = process.env): CommandApiConfig {
  const port = readInt(env, 'COMMAND_API_PORT', 4000, { min: 0, max: 65535 });
  return {
    databaseUrl: readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    natsUrl: readUrl(env, 'NATS_URL', ['nats:', 'tls:'], 'nats://127.0.0.1:4222'),
    host: readString(env, 'HOST', '127.0.0.1'),
    port,
    ...readMonitoringConfig(env, { variable: 'COMMAND_API_ADMIN_PORT', fallback: 9400 }, { variable: 'COMMAND_API_PORT', port }),
    maxFutureSkewMs: readInt(env, 'OCCURRED_AT_MAX_SKEW_SECONDS', 300, { min: 0, max: 86_400 }) * 1000,
    maxBodyBytes: readInt(env, 'MAX_REQUEST_BYTES', 4 * 1024 * 1024, { min: 1024, max: 64 * 1024 * 1024 }),
    bodyTimeoutMs: readInt(env, 'COMMAND_API_BODY_TIMEOUT_SECONDS', 10, { min: 1, max: 600 }) * 1000,
    maxInFlightRequests: readInt(env, 'MAX_IN_FLIGHT_REQUESTS', 64, { min: 1, max: 10_000 }),
    databasePoolSize: readInt(env, 'DATABASE_POOL_SIZE', 8, { min: 1, max: 200 }),
    publishBatchSize: readInt(env, 'PUBLISH_BATCH_SIZE', 500, { min: 1, max: 10_000 }),
    appendConcurrency: readInt(env, 'APPEND_CONCURRENCY', 2, { min: 1, max: 64 }),
    appendGroupEvents: readInt(env, 'APPEND_GROUP_EVENTS', 8000, { min: 1000, max: 100_000 }),
  };
}
