import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * PostgreSQL refuses to run as root: as root, Patroni (and so its postgres)
 * runs as Debian's `postgres` user, which the postgresql-common package creates.
 */
export function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root, but there is no `postgres` user to run PostgreSQL as (apt-get install postgresql-15 creates it)');
  }
}

/** Gives `path` to the server's user (when this process is root). */
export function chownToServer(path: string): void {
  const user = serverUser();
  if (user) chownSync(path, user.uid, user.gid);
}

/** The bin directory of the newest Debian PostgreSQL (`/usr/lib/postgresql/N/bin`), or PG_BIN_DIR. */
export function postgresBinDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v) && existsSync(join(base, v, 'bin', 'pg_basebackup'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('no Debian PostgreSQL server found under /usr/lib/postgresql (apt-get install postgresql-15), and PG_BIN_DIR is not set');
  return join(base, newest, 'bin');
}

/** A new temporary directory the server's user owns (as root, a root-private one would lock PostgreSQL out). */
export function serverOwnedTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chownToServer(dir);
  return dir;
}
