import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKysely, createPool, importEmbeddedPostgres, initialisePrivately, migrateToLatest, withClient } from '@app/database';
import { chownToServer, freePort, serverOwnedTempDir, serverUser, waitForPort } from '@app/ha';
import { execFileSync, spawn } from 'node:child_process';

export const TEMPLATE_DATABASE = 'payments_test_template';

export interface PostgresServer {
  /** URL of a database the harness may use to create and drop others. */
  adminUrl: string;
  stop(): Promise<void>;
}

/**
 * Uses DATABASE_URL when set (an existing server); with TEST_PG_BIN_DIR, starts
 * that installation's server (Debian's PostgreSQL 15, which the replicated
 * topology runs on: `npm test` runs the SQL suites on it too); otherwise starts
 * an embedded PostgreSQL.
 */
export async function startPostgres(): Promise<PostgresServer> {
  if (process.env.DATABASE_URL) {
    return { adminUrl: process.env.DATABASE_URL, stop: async () => undefined };
  }
  if (process.env.TEST_PG_BIN_DIR) return startInstalledPostgres(process.env.TEST_PG_BIN_DIR);
  const dir = mkdtempSync(join(tmpdir(), 'pg-test-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const EmbeddedPostgres = await importEmbeddedPostgres({ keepSignalHooks: true });
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  // initdb's password file where no other local user can read it.
  await initialisePrivately(server);
  await server.start();
  return {
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A throwaway server of an installed PostgreSQL (initdb and postgres from `binDir`), run as its own user when this process is root. */
async function startInstalledPostgres(binDir: string): Promise<PostgresServer> {
  const dir = serverOwnedTempDir('pg-installed-');
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, password, { mode: 0o600 });
  chownToServer(pwfile);
  const user = serverUser();
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  execFileSync(join(binDir, 'initdb'), ['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C.UTF-8'], {
    ...as, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH, LANG: 'C.UTF-8' },
  });
  const port = await freePort();
  const server = spawn(join(binDir, 'postgres'), [
    '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off', '-c', 'max_connections=300',
  ], { ...as, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  server.stderr?.on('data', (chunk) => { output = (output + chunk).slice(-4000); });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  await Promise.race([waitForPort(port, 30_000), exited.then(() => { throw new Error(`postgres (${binDir}) exited: ${output}`); })]);
  return {
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      // SIGINT: PostgreSQL's fast shutdown.
      server.kill('SIGINT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates the migrated template every test database is cloned from. */
export async function prepareTemplate(adminUrl: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    await client.query(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
    await client.query(`create database ${TEMPLATE_DATABASE}`);
  });
  const pool = createPool({ connectionString: databaseUrl(adminUrl, TEMPLATE_DATABASE), max: 1 });
  const db = createKysely(pool);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one spec file. */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`create database ${name} template ${TEMPLATE_DATABASE}`));
  return {
    name,
    url: databaseUrl(adminUrl, name),
    drop: () => withClient(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}
