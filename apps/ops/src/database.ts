import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readUrl, redactUrl, repositoryRoot } from '@app/config';
import { createKysely, createPool, type Database } from '@app/database';
import { sql, type Kysely } from 'kysely';
import { OpsError } from './cli.js';

const repoRoot = repositoryRoot(import.meta.url);

/** DATABASE_URL, else the database of the running local stack (its state file under .data). */
export function resolveDatabaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DATABASE_URL) return readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const stateFile = resolve(repoRoot, env.LOCAL_DATA_DIR || '.data', 'local-stack.json');
  const state = existsSync(stateFile) ? parseState(stateFile) : undefined;
  if (!state || !isAlive(state.pid)) {
    throw new OpsError('no DATABASE_URL and no local stack running: start it with npm start');
  }
  return state.databaseUrl;
}

function parseState(file: string): { databaseUrl: string; pid: number } {
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as { databaseUrl?: unknown; pid?: unknown };
    if (typeof state.databaseUrl === 'string' && typeof state.pid === 'number') return { databaseUrl: state.databaseUrl, pid: state.pid };
  } catch {
    // Reported below.
  }
  throw new OpsError(`${file} is not a local stack state file; remove it and run npm start again`);
}

/** The state file outlives a crashed stack; a dead pid tells the two apart. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Connects and checks the connection, naming the (redacted) server when that fails. */
export async function connect(url: string): Promise<Kysely<Database>> {
  const db = createKysely(createPool({ connectionString: url, max: 2, applicationName: 'ops' }));
  try {
    // Through Kysely, not the pool: Kysely ends the pool on destroy() only once it has used it,
    // and an idle pooled connection would otherwise keep the CLI alive for its idle timeout.
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new OpsError(`cannot connect to the database at ${redactUrl(url)}: ${describe(error)}`);
  }
  return db;
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && !error.message) return error.errors.map(describe).join('; ');
  return error instanceof Error ? error.message : String(error);
}
