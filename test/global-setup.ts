import type { TestProject } from 'vitest/node';
import { prepareTemplate, startPostgres } from '../libs/testing/src/postgres.js';

/** One PostgreSQL for the whole run; every spec clones its own database from a migrated template. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startPostgres();
  await prepareTemplate(server.adminUrl);
  project.provide('postgresAdminUrl', server.adminUrl);
  return () => server.stop();
}
