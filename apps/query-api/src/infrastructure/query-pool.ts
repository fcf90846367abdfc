import pg from 'pg';
import type { QueryApiConfig } from '@app/config';

/**
 * The query API's connections. Like every pool of the system (createPool in
 * @app/database), plus `plan_cache_mode = force_generic_plan`: the reader runs
 * its statements prepared (PreparedStatementClient), and their tables are
 * partitioned by merchant. PostgreSQL's default would keep re-planning them,
 * because a generic plan's estimate counts every partition while execution
 * prunes to the merchant's one at start-up; the generic plan costs a fifth of
 * the planning for the short questions. Behind PgBouncer, which drops startup
 * options, the answers stay the same, only slower.
 */
export function createQueryPool(config: Pick<QueryApiConfig, 'databaseUrl' | 'databasePoolSize'>, applicationName = 'query-api'): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: config.databasePoolSize,
    application_name: applicationName,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    options: '-c plan_cache_mode=force_generic_plan',
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}
