import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProducerApp } from '@app/access';
import { createKysely, createPool, importEmbeddedPostgres, initialisePrivately, migrateToLatest, withClient } from '@app/database';
import { freePort } from '@app/ha';
import { builtEntry, ensureBuilt } from '../../scripts/build.mjs';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Everything the benchmark started, stopped in reverse order by `cleanup()`,
 * which also runs on SIGINT/SIGTERM and on a thrown error. Temporary
 * directories are removed in a synchronous `exit` hook as a last resort.
 */
export class Resources {
  private readonly stoppers: Array<{ name: string; stop: () => Promise<void> }> = [];
  private readonly dirs = new Set<string>();
  private readonly children = new Set<ChildProcess>();
  private cleaning?: Promise<void>;
  keepDirs = false;

  constructor() {
    process.on('exit', () => {
      for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (!this.keepDirs) for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    });
  }

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.add(dir);
    return dir;
  }

  child(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  onCleanup(name: string, stop: () => Promise<void>): void {
    this.stoppers.push({ name, stop });
  }

  cleanup(): Promise<void> {
    this.cleaning ??= (async () => {
      for (const { name, stop } of this.stoppers.reverse()) {
        await withTimeout(stop(), 15_000, name).catch((error) => console.error(`cleanup of ${name} failed: ${(error as Error).message}`));
      }
      if (!this.keepDirs) for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    })();
    return this.cleaning;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not stop within ${ms} ms`)), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface PostgresHandle {
  adminUrl: string;
  dataDir: string;
  url(database: string): string;
  /** The postmaster's pid (its children are the backends and background workers). */
  postmasterPid(): number;
}

/** Fixed for a reused cluster: it listens on 127.0.0.1 only and holds nothing but generated bench data. */
const REUSED_PASSWORD = 'bench-query-reusable';

/**
 * An embedded PostgreSQL with the server's DEFAULT durability settings
 * (fsync, synchronous_commit, full_page_writes all on), unlike the test
 * harness, which turns them off. With `reuseDir`, its data directory survives
 * the run, so repeated runs on the same data set skip loading it; `settings`
 * are passed as `-c name=value` (e.g. shared_buffers).
 */
export async function startPostgres(
  resources: Resources,
  options: { onLog?: (message: string) => void; reuseDir?: string; settings?: Record<string, string> } = {},
): Promise<PostgresHandle> {
  const dataDir = options.reuseDir ? resolve(options.reuseDir) : resources.tempDir('bench-pg-');
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  if (options.reuseDir && fresh) mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const password = options.reuseDir ? REUSED_PASSWORD : randomBytes(12).toString('hex');
  const EmbeddedPostgres = await importEmbeddedPostgres({ keepSignalHooks: true });
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: options.reuseDir !== undefined,
    createPostgresUser: true,
    onLog: options.onLog ?? (() => undefined),
    onError: () => undefined,
    postgresFlags: Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  });
  // initdb's password file where no other local user can read it.
  if (fresh) await initialisePrivately(server);
  await server.start();
  resources.onCleanup('postgres', () => server.stop());
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return {
    adminUrl,
    dataDir,
    url(database) {
      const url = new URL(adminUrl);
      url.pathname = `/${database}`;
      return url.toString();
    },
    postmasterPid: () => Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
  };
}

export { withClient };

export interface BenchSystem {
  postgres: PostgresHandle;
  /** The migrated `bench` database. */
  url: string;
  nats: NatsHandle;
  /** A producer app's key for the command API. */
  key: string;
  /** Where the apps started with startApp write their logs. */
  logs: string;
  /** Signs the query API's tokens: fresh per run, since NODE_ENV=production refuses any secret published in the repository. */
  secret: string;
  /** The apps' environment: the database, NATS, the secret, production mode. */
  env: Record<string, string>;
}

/**
 * What the benches that run the apps as processes start from: embedded
 * PostgreSQL with a migrated `bench` database and one producer app
 * (`producerName`), and a nats-server.
 */
export async function startBenchSystem(resources: Resources, producerName: string, pgSettings: Record<string, string> = {}): Promise<BenchSystem> {
  const postgres = await startPostgres(resources, { settings: pgSettings });
  await withClient(postgres.adminUrl, (c) => c.query('create database bench'));
  const url = postgres.url('bench');
  const db = createKysely(createPool({ connectionString: url, max: 2 }));
  await migrateToLatest(db);
  const { key } = await createProducerApp(db, producerName);
  await db.destroy();
  const nats = await startNats(resources);
  const secret = randomBytes(32).toString('base64url');
  return {
    postgres, url, nats, key, secret,
    logs: resources.tempDir(`${producerName}-`),
    env: { DATABASE_URL: url, NATS_URL: nats.url, MERCHANT_JWT_SECRET: secret, NODE_ENV: 'production' },
  };
}

export interface NatsHandle {
  url: string;
  pid: number;
}

export async function startNats(resources: Resources): Promise<NatsHandle> {
  const storeDir = resources.tempDir('bench-nats-');
  const port = await freePort();
  const child = spawn(process.env.NATS_SERVER_BIN ?? 'nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  resources.child(child);
  let stderr = '';
  child.stderr?.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`nats-server exited with ${code}: ${stderr}`)));
  });
  failed.catch(() => undefined);
  resources.onCleanup('nats-server', () => stopChild(child));
  await Promise.race([
    waitFor(() => new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    }), 10_000, 'nats-server'),
    failed,
  ]);
  return { url: `nats://127.0.0.1:${port}`, pid: child.pid! };
}

export interface ApiHandle {
  url: string;
  /** The admin port: /metrics and /health/details. */
  adminUrl: string;
  /** The gRPC port as `127.0.0.1:PORT`, for an app that has one. */
  grpcTarget?: string;
  pid: number;
  logFile: string;
  /** Starts the V8 CPU profiler in the API (only when started with cpuProfDir). */
  startProfile(): void;
  /** Stops it; resolves with the .cpuprofile file written. */
  stopProfile(): Promise<string>;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** An app of this repository: its entry point and the variables that set its HTTP port and its admin port, and its gRPC port if it has one. */
export interface BenchApp {
  name: string;
  entry: string;
  portVariable: string;
  adminPortVariable: string;
  grpcPortVariable?: string;
}

export const COMMAND_API_APP: BenchApp = {
  name: 'command-api', entry: 'apps/command-api/src/main.ts', portVariable: 'COMMAND_API_PORT', adminPortVariable: 'COMMAND_API_ADMIN_PORT',
  grpcPortVariable: 'COMMAND_API_GRPC_PORT',
};
export const PROJECTOR_APP: BenchApp = {
  name: 'projector', entry: 'apps/projector/src/main.ts', portVariable: 'PROJECTOR_PORT', adminPortVariable: 'PROJECTOR_ADMIN_PORT',
};
export const QUERY_API_APP: BenchApp = {
  name: 'query-api', entry: 'apps/query-api/src/main.ts', portVariable: 'QUERY_API_PORT', adminPortVariable: 'QUERY_API_ADMIN_PORT',
};

/** The command API as a real child process, exactly as `main.ts` runs in production. */
export function startCommandApi(
  resources: Resources,
  logDir: string,
  env: Record<string, string>,
  options: { cpuProfDir?: string } = {},
): Promise<ApiHandle> {
  return startApp(resources, logDir, COMMAND_API_APP, env, options);
}

/** An app as a real child process, ready once /health/ready answers 200; its output goes to <logDir>/<name>.log. */
export async function startApp(
  resources: Resources,
  logDir: string,
  app: BenchApp,
  env: Record<string, string>,
  options: { cpuProfDir?: string } = {},
): Promise<ApiHandle> {
  const port = await freePort();
  const adminPort = await freePort();
  const grpcPort = app.grpcPortVariable ? await freePort() : undefined;
  const logFile = join(logDir, `${app.name}.log`);
  const log = createWriteStream(logFile);
  const preload = options.cpuProfDir ? ['--import', fileURLToPath(new URL('./cpu-profile-preload.mjs', import.meta.url))] : [];
  // The compiled app, as npm start and the image run it (scripts/build.mjs).
  await ensureBuilt();
  const child = spawn(process.execPath, [...preload, '--enable-source-maps', builtEntry(app.entry)], {
    cwd: repoRoot,
    env: {
      ...withoutSwcrc(process.env),
      ...env,
      ...(options.cpuProfDir ? { BENCH_CPU_PROF_DIR: options.cpuProfDir } : {}),
      [app.portVariable]: String(port),
      [app.adminPortVariable]: String(adminPort),
      ...(app.grpcPortVariable ? { [app.grpcPortVariable]: String(grpcPort) } : {}),
      HOST: '127.0.0.1',
    },
    stdio: options.cpuProfDir ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  resources.child(child);
  let tail = '';
  const capture = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  const url = `http://127.0.0.1:${port}`;
  const handle: ApiHandle = {
    url,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    grpcTarget: grpcPort === undefined ? undefined : `127.0.0.1:${grpcPort}`,
    pid: child.pid!,
    logFile,
    startProfile: () => { child.send?.('cpu-prof:start'); },
    stopProfile: () =>
      new Promise<string>((resolve, reject) => {
        if (!child.send) return reject(new Error(`${app.name} was not started for profiling`));
        const timer = setTimeout(() => reject(new Error('no CPU profile within 30 s')), 30_000);
        child.on('message', (message: { written?: string }) => {
          if (message?.written) { clearTimeout(timer); resolve(message.written); }
        });
        child.send('cpu-prof:stop');
      }),
    logTail: (lines = 30) => tail.split('\n').slice(-lines).join('\n'),
    stop: async () => {
      await stopChild(child);
      if (!log.writableEnded) await new Promise((resolve) => log.end(resolve));
    },
  };
  resources.onCleanup(app.name, handle.stop);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${app.name} exited early\n--- ${app.name} log (tail) ---\n${handle.logTail()}`);
    }
    const ready = await fetch(`${url}/health/ready`)
      .then(async (res) => { await res.arrayBuffer(); return res.status === 200; })
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`${app.name} not ready within 60 s\n--- ${app.name} log (tail) ---\n${handle.logTail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return handle;
}

async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * swc-node treats any non-empty SWCRC (even "false") as "compile with .swcrc";
 * with no .swcrc that means no decorators and an ES5-style output. The API is
 * started the way the test harness starts it: without SWCRC, compiled from
 * tsconfig.json.
 */
export function withoutSwcrc(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  delete copy.SWCRC;
  return copy;
}
