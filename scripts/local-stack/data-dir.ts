import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Where the local stack keeps everything it persists between runs. */
export interface DataDir {
  root: string;
  postgres: string;
  postgresPassword: string;
  nats: string;
  logs: string;
  devProducerKey: string;
  /** The command API's own PostgreSQL login (a payments_writer member), in a stack that runs its own PostgreSQL. */
  commandApiPassword: string;
  /** The projector's (a projection_writer member) and the query API's (a read_model_reader member). */
  projectorPassword: string;
  queryApiPassword: string;
  /** Passwords of the local nats-server's users (deploy/nats-server.conf). */
  natsCommandApiPassword: string;
  natsProjectorPassword: string;
  /** Tells the ops CLI where the running stack is; exists only while it runs. */
  stateFile: string;
}

export function dataDir(env: NodeJS.ProcessEnv = process.env): DataDir {
  const root = resolve(repoRoot, env.LOCAL_DATA_DIR || '.data');
  // Readable by others on purpose: PostgreSQL runs as the postgres user when
  // we are root and must be able to reach .data/postgres. Secrets inside are 0600.
  mkdirSync(join(root, 'logs'), { recursive: true, mode: 0o755 });
  return {
    root,
    postgres: join(root, 'postgres'),
    postgresPassword: join(root, 'postgres-password'),
    nats: join(root, 'nats'),
    logs: join(root, 'logs'),
    devProducerKey: join(root, 'dev-producer.key'),
    commandApiPassword: join(root, 'command-api-password'),
    projectorPassword: join(root, 'projector-password'),
    queryApiPassword: join(root, 'query-api-password'),
    natsCommandApiPassword: join(root, 'nats-command-api-password'),
    natsProjectorPassword: join(root, 'nats-projector-password'),
    stateFile: join(root, 'local-stack.json'),
  };
}

export function readSecret(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  chmodSync(path, 0o600);
  return readFileSync(path, 'utf8').trim() || undefined;
}

/** The secret kept in `path`, made with `make` (and kept) when there is none or `usable` refuses it. */
export function keptSecret(path: string, make: () => string, usable: (value: string) => boolean = () => true): string {
  const kept = readSecret(path);
  if (kept !== undefined && usable(kept)) return kept;
  const value = make();
  writeSecret(path, value);
  return value;
}

export function writeSecret(path: string, value: string): void {
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export interface LocalStackState {
  databaseUrl: string;
  natsUrl: string;
  commandApiUrl: string;
  /** Where the query API listens (`npm run ops -- tokens merchant ID --link` makes its dashboard link with it). */
  queryApiUrl: string;
  /** The secret merchant tokens are signed with (`npm run ops -- tokens …` reads it here). */
  merchantJwtSecret: string;
  /** Lets the ops CLI tell a running stack from a file left by a crash. */
  pid: number;
}

export function writeState(dir: DataDir, state: LocalStackState): void {
  // Holds the database password, so it is as private as the password file.
  writeSecret(dir.stateFile, JSON.stringify(state, null, 2));
}

export function removeState(dir: DataDir): void {
  rmSync(dir.stateFile, { force: true });
}
