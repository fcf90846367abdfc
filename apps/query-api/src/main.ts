import { runClustered } from '@app/cluster';
import { ConfigError, readInt } from '@app/config';
import { startQueryApi } from './bootstrap.js';
import { loadQueryApiSettings } from './infrastructure/config.provider.js';

/**
 * The merchants' GraphQL API. Stateless: scale out by running more instances
 * behind a load balancer; each has its own pool against the read replica or primary.
 * QUERY_API_WORKERS > 1 runs that many processes sharing the port
 * (node:cluster), each with its own pool (DATABASE_POOL_SIZE connections each)
 * and caches. Measured on 2 cores it did not help (BENCHMARKS.md); prefer one
 * worker per container where containers scale out.
 */
try {
  const workers = readInt(process.env, 'QUERY_API_WORKERS', 1, { min: 1, max: 64 });
  const config = loadQueryApiSettings();
  await runClustered('query-api', workers, () => startQueryApi(config));
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
}
