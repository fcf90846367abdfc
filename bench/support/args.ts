import { PROTOCOLS, type Protocol } from './load.js';

/** Command-line settings of bench:ingest. */
export interface BenchSettings {
  /** Measured one after the other, each on a fresh database and API process, with the same events. */
  protocols: Protocol[];
  /** Concurrent producers (one request in flight each). */
  producers: number;
  /** Events per request. */
  batch: number;
  /** Timed window, seconds. */
  seconds: number;
  /** Warm-up before the window, seconds (not counted). */
  warmup: number;
  /** DATABASE_POOL_SIZE of the command API. */
  pool: number;
  /** MAX_IN_FLIGHT_REQUESTS of the command API. */
  maxInFlight: number;
  /** PUBLISH_BATCH_SIZE of the command API. */
  publishBatch: number;
  /** APPEND_CONCURRENCY / APPEND_GROUP_EVENTS of the command API; unset: the API's defaults. */
  appendConcurrency?: number;
  appendGroupEvents?: number;
  /** COMMAND_API_WORKERS of the command API (node:cluster processes); unset: the API's default. */
  workers?: number;
  /** Distinct merchants in the generated events. */
  merchants: number;
  /** Rows of the raw COPY baseline, and how many COPY statements carry them. */
  copyRows: number;
  copyStatements: number;
  /** Sample pg_stat_activity every this many ms during the window (0: off). */
  waitSampleMs: number;
  /** When set, a V8 CPU profile of the command API over the window is written here. */
  cpuProfDir?: string;
  /** When set, the result is also written here as JSON. */
  jsonOut?: string;
  /** Keep the temporary directory (API log, profiles) instead of deleting it. */
  keep: boolean;
}

const USAGE = `usage: npm run bench:ingest -- [--protocols connect,grpc] [--producers K] [--batch N] [--seconds S] [--warmup S] [--pool N]
       [--max-in-flight N] [--publish-batch N] [--append-concurrency N] [--append-group-events N] [--workers N]
       [--merchants N] [--copy-rows N] [--copy-statements N]
       [--wait-sample-ms MS] [--cpu-prof DIR] [--json FILE] [--keep]
  protocols: connect (JSON), connect-proto (binary protobuf), grpc (binary protobuf over HTTP/2); default connect,grpc
  env BENCH_API_CPU_PROF=DIR is the same as --cpu-prof DIR`;

export class UsageError extends Error {}

export function parseArgs(argv: string[], env: Record<string, string | undefined> = process.env): BenchSettings {
  const settings: BenchSettings = {
    protocols: ['connect', 'grpc'],
    producers: 8,
    batch: 1000,
    seconds: 20,
    warmup: 3,
    pool: 8,
    maxInFlight: 64,
    publishBatch: 500,
    merchants: 10_000,
    copyRows: 300_000,
    copyStatements: 10,
    waitSampleMs: 50,
    cpuProfDir: env.BENCH_API_CPU_PROF || undefined,
    keep: false,
  };
  const ints: Record<string, [keyof BenchSettings, number, number]> = {
    '--producers': ['producers', 1, 512],
    '--batch': ['batch', 1, 1000],
    '--seconds': ['seconds', 1, 3600],
    '--warmup': ['warmup', 0, 600],
    '--pool': ['pool', 1, 200],
    '--max-in-flight': ['maxInFlight', 1, 10_000],
    '--publish-batch': ['publishBatch', 1, 10_000],
    '--append-concurrency': ['appendConcurrency', 1, 64],
    '--append-group-events': ['appendGroupEvents', 1000, 100_000],
    '--workers': ['workers', 1, 64],
    '--merchants': ['merchants', 1, 10_000_000],
    '--copy-rows': ['copyRows', 1000, 10_000_000],
    '--copy-statements': ['copyStatements', 1, 1000],
    '--wait-sample-ms': ['waitSampleMs', 0, 10_000],
  };
  // A plain index walk (no closure over the loop variable: the swc transform
  // used by run-ts would give each iteration its own copy of it).
  const rest = [...argv];
  while (rest.length > 0) {
    const arg = rest.shift()!;
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? rest.shift();
      if (v === undefined) throw new UsageError(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--help' || flag === '-h') throw new UsageError(USAGE);
    if (flag === '--keep') { settings.keep = true; continue; }
    if (flag === '--cpu-prof') { settings.cpuProfDir = value(); continue; }
    if (flag === '--json') { settings.jsonOut = value(); continue; }
    if (flag === '--protocols') { settings.protocols = parseProtocols(value()); continue; }
    const spec = ints[flag];
    if (!spec) throw new UsageError(`unknown option ${arg}\n${USAGE}`);
    const raw = value();
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < spec[1] || n > spec[2]) throw new UsageError(`${flag} must be an integer from ${spec[1]} to ${spec[2]}, got "${raw}"`);
    (settings as unknown as Record<string, number>)[spec[0]] = n;
  }
  return settings;
}

function parseProtocols(raw: string): Protocol[] {
  const names = raw.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !(PROTOCOLS as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) throw new UsageError(`--protocols takes a list of ${PROTOCOLS.join(', ')}; got "${raw}"\n${USAGE}`);
  if (new Set(names).size !== names.length) throw new UsageError(`--protocols names a protocol twice: "${raw}"`);
  return names as Protocol[];
}

/** The number after `name` in `argv` (`--clients 8`), or `fallback` when `name` is absent. */
export function numberFlag(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
}

/**
 * The value after `name` in `argv` (`--zone Asia/Tokyo`), or `fallback` when `name` is absent; an
 * error naming the option, with `usage`, when it has no value and no fallback.
 */
export function stringFlag(argv: readonly string[], name: string, usage: string, fallback?: string): string {
  const at = argv.indexOf(name);
  const value = at < 0 ? fallback : argv[at + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} is required\nusage: ${usage}`);
  return value;
}

/**
 * Adds the value of a repeatable `NAME=VALUE` option (`--pg shared_buffers=4GB`, `--api-env K=V`)
 * to `into`; `what` names the option in the error ("--pg takes NAME=VALUE (a PostgreSQL setting)").
 */
export function addNameValue(into: Record<string, string>, raw: string, what: string, usage: string): void {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new Error(`${what}\n${usage}`);
  into[raw.slice(0, eq)] = raw.slice(eq + 1);
}
