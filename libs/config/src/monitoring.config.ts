import { ConfigError, readInt, readString } from './env.js';

/** Where an app serves /metrics and /health/details, and how often it checks its readiness. */
export interface MonitoringConfig {
  /** Listen address of the admin port: ADMIN_HOST, 127.0.0.1 whatever HOST says. */
  adminHost: string;
  adminPort: number;
  /** The readiness check runs in the background this often; /health/ready answers its last result. */
  readinessIntervalMs: number;
  /** A check still unanswered after this counts as failed. */
  readinessTimeoutMs: number;
}

type Env = Record<string, string | undefined>;

/**
 * Reads the admin listener's address and the readiness check's timing. The
 * admin port must differ from the app's own: /metrics is kept off the port
 * that load balancers and clients reach.
 */
export function readMonitoringConfig(
  env: Env,
  admin: { variable: string; fallback: number },
  main: { variable: string; port: number },
): MonitoringConfig {
  const adminPort = readInt(env, admin.variable, admin.fallback, { min: 0, max: 65535 });
  if (adminPort !== 0 && adminPort === main.port) {
    throw new ConfigError(`${admin.variable} must differ from ${main.variable} (both ${adminPort}): /metrics is served on a port of its own`);
  }
  return {
    adminHost: readString(env, 'ADMIN_HOST', '127.0.0.1'),
    adminPort,
    readinessIntervalMs: readInt(env, 'READINESS_INTERVAL_MS', 1000, { min: 100, max: 60_000 }),
    readinessTimeoutMs: readInt(env, 'READINESS_TIMEOUT_MS', 2000, { min: 100, max: 60_000 }),
  };
}
