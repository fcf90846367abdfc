import { readArchiveDir } from './archive.config.js';
import { readInt, readString, readUrl, readUrlList } from './env.js';
import { readMonitoringConfig, type MonitoringConfig } from './monitoring.config.js';

export interface ProjectorConfig extends MonitoringConfig {
  databaseUrl: string;
  natsUrl: string;
  host: string;
  /** HTTP port of /health/live and /health/ready (the admin port serves /metrics). */
  port: number;
  /**
   * The version each projection's projectors build when it has none yet,
   * by projection name (PROJECTOR_VERSIONS=name=N,...); a projection not
   * named builds its definition's default version.
   */
  versions: Readonly<Record<string, number>>;
  /** The projections this process runs (PROJECTOR_PROJECTIONS=a,b); undefined: every one the code has. */
  projections?: readonly string[];
  /** Most events read from the event store per transaction while catching up. */
  batchEvents: number;
  /** Most JetStream messages fetched (and applied in one transaction) at once. */
  fetchMessages: number;
  /** A message delivered and not acknowledged for this long is redelivered (to this process or to whoever owns the partition then). */
  ackWaitMs: number;
  /** A partition lease not renewed for this long may be taken by another process. */
  leaseMs: number;
  /** A partition with waiting events and no progress for this long is reported stalled. */
  stallMs: number;
  /** How often the rollup watermarks of owned partitions are checked (and moved up to a finished day before the current UTC day: ROLLUP_DELAY_DAYS). */
  rollupCheckMs: number;
  databasePoolSize: number;
  /** The cold archive (ARCHIVE_DIR), read for positions removed from the hot store; unset: none may be removed. */
  archiveDir?: string;
}

export function loadProjectorConfig(env: Record<string, string | undefined> = process.env): ProjectorConfig {
  const port = readInt(env, 'PROJECTOR_PORT', 4002, { min: 0, max: 65535 });
  return {
    databaseUrl: readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    natsUrl: readUrlList(env, 'NATS_URL', ['nats:', 'tls:'], 'nats://127.0.0.1:4222'),
    host: readString(env, 'HOST', '127.0.0.1'),
    port,
    ...readMonitoringConfig(env, { variable: 'PROJECTOR_ADMIN_PORT', fallback: 9402 }, { variable: 'PROJECTOR_PORT', port }),
    versions: readVersions(env),
    projections: readProjections(env),
    batchEvents: readInt(env, 'PROJECTOR_BATCH_EVENTS', 20_000, { min: 1, max: 100_000 }),
    fetchMessages: readInt(env, 'PROJECTOR_FETCH_MESSAGES', 64, { min: 1, max: 1000 }),
    ackWaitMs: readInt(env, 'PROJECTOR_ACK_WAIT_SECONDS', 30, { min: 1, max: 3600 }) * 1000,
    leaseMs: readInt(env, 'PROJECTOR_LEASE_SECONDS', 10, { min: 1, max: 600 }) * 1000,
    stallMs: readInt(env, 'PROJECTOR_STALL_SECONDS', 30, { min: 1, max: 3600 }) * 1000,
    rollupCheckMs: readInt(env, 'PROJECTOR_ROLLUP_CHECK_SECONDS', 60, { min: 1, max: 3600 }) * 1000,
    databasePoolSize: readInt(env, 'DATABASE_POOL_SIZE', 20, { min: 2, max: 200 }),
    archiveDir: env.ARCHIVE_DIR?.trim() ? readArchiveDir(env) : undefined,
  };
}

const PROJECTION_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** PROJECTOR_VERSIONS: `name=N` pairs, comma-separated. The names are checked against the code's projections at start. */
function readVersions(env: Record<string, string | undefined>): Record<string, number> {
  const raw = env.PROJECTOR_VERSIONS?.trim();
  const versions: Record<string, number> = {};
  if (!raw) return versions;
  for (const pair of raw.split(',')) {
    const match = /^\s*([a-z0-9-]+)\s*=\s*([1-9][0-9]{0,3})\s*$/.exec(pair);
    if (!match || !PROJECTION_NAME.test(match[1]!)) {
      throw new Error(`PROJECTOR_VERSIONS must be name=N pairs separated by commas (merchant-metrics=3), got "${raw}"`);
    }
    if (match[1]! in versions) throw new Error(`PROJECTOR_VERSIONS names ${match[1]} twice`);
    versions[match[1]!] = Number(match[2]);
  }
  return versions;
}

/** PROJECTOR_PROJECTIONS: projection names, comma-separated; unset or empty: all. */
function readProjections(env: Record<string, string | undefined>): string[] | undefined {
  const raw = env.PROJECTOR_PROJECTIONS?.trim();
  if (!raw) return undefined;
  const names = raw.split(',').map((n) => n.trim());
  for (const name of names) {
    if (!PROJECTION_NAME.test(name)) throw new Error(`PROJECTOR_PROJECTIONS must be projection names separated by commas, got "${raw}"`);
  }
  return names;
}
