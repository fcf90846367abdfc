import { accessSync, constants } from 'node:fs';
import { ConfigError, readInt, readOptionalString, readString, readUrl, readUrlList } from './env.js';
import { readMonitoringConfig, type MonitoringConfig } from './monitoring.config.js';

/** The gRPC listener of the command API: HTTP/2 on a port of its own, h2c unless both TLS files are given. */
export interface CommandApiGrpcConfig {
  /** 0: a free port the system picks (as for the other ports). */
  port: number;
  /** PEM files for TLS; without them the listener speaks cleartext HTTP/2 (h2c). */
  tls?: { certFile: string; keyFile: string };
}

export interface CommandApiConfig extends MonitoringConfig {
  databaseUrl: string;
  /** One NATS URL, or a comma-separated list of a cluster's servers. */
  natsUrl: string;
  /** Replicas of the PAYMENTS stream the command API creates (NATS_STREAM_REPLICAS; 3 on a 3-node cluster). */
  streamReplicas: number;
  host: string;
  port: number;
  /** Undefined when COMMAND_API_GRPC_PORT is "off". */
  grpc?: CommandApiGrpcConfig;
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
  const monitoring = readMonitoringConfig(env, { variable: 'COMMAND_API_ADMIN_PORT', fallback: 9400 }, { variable: 'COMMAND_API_PORT', port });
  return {
    databaseUrl: readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    natsUrl: readUrlList(env, 'NATS_URL', ['nats:', 'tls:'], 'nats://127.0.0.1:4222'),
    streamReplicas: readInt(env, 'NATS_STREAM_REPLICAS', 1, { min: 1, max: 5 }),
    host: readString(env, 'HOST', '127.0.0.1'),
    port,
    grpc: readGrpcConfig(env, port, monitoring.adminPort),
    ...monitoring,
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

/**
 * COMMAND_API_GRPC_PORT (4003; "off" turns the listener off; 0 a free port, as the other ports take it) and
 * COMMAND_API_GRPC_TLS_CERT / COMMAND_API_GRPC_TLS_KEY, both or neither, files this process can read.
 */
function readGrpcConfig(env: Record<string, string | undefined>, port: number, adminPort: number): CommandApiGrpcConfig | undefined {
  const certFile = readOptionalString(env, 'COMMAND_API_GRPC_TLS_CERT');
  const keyFile = readOptionalString(env, 'COMMAND_API_GRPC_TLS_KEY');
  if (env.COMMAND_API_GRPC_PORT?.trim().toLowerCase() === 'off') {
    if (certFile || keyFile) throw new ConfigError('COMMAND_API_GRPC_TLS_CERT and COMMAND_API_GRPC_TLS_KEY are set but COMMAND_API_GRPC_PORT is "off"');
    return undefined;
  }
  const grpcPort = readInt(env, 'COMMAND_API_GRPC_PORT', 4003, { min: 0, max: 65535 });
  if (grpcPort !== 0 && grpcPort === port) throw new ConfigError(`COMMAND_API_GRPC_PORT must differ from COMMAND_API_PORT (both ${grpcPort})`);
  if (grpcPort !== 0 && grpcPort === adminPort) throw new ConfigError(`COMMAND_API_GRPC_PORT must differ from COMMAND_API_ADMIN_PORT (both ${grpcPort})`);
  if (!certFile !== !keyFile) {
    throw new ConfigError('COMMAND_API_GRPC_TLS_CERT and COMMAND_API_GRPC_TLS_KEY go together: set both (PEM files) for TLS, or neither for cleartext HTTP/2');
  }
  if (!certFile || !keyFile) return { port: grpcPort };
  return { port: grpcPort, tls: { certFile: readableFile('COMMAND_API_GRPC_TLS_CERT', certFile), keyFile: readableFile('COMMAND_API_GRPC_TLS_KEY', keyFile) } };
}

function readableFile(name: string, path: string): string {
  try {
    accessSync(path, constants.R_OK);
  } catch (error) {
    throw new ConfigError(`${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return path;
}
