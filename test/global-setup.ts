import type { TestProject } from 'vitest/node';
import { prepareTemplate, startPostgres } from '../libs/testing/src/postgres.js';
import { ensureBuilt } from '../scripts/build.mjs';

/** The compiled apps, and one PostgreSQL for the whole run; every spec clones its own database from a migrated template. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The apps the e2e specs start run compiled (scripts/build.mjs): built once here, before any spec runs.
  await ensureBuilt();
  const server = await startPostgres();
  await prepareTemplate(server.adminUrl);
  project.provide('postgresAdminUrl', server.adminUrl);
  return () => server.stop();
}
