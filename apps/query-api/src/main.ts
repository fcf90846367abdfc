import { ConfigError, loadQueryApiConfig } from '@app/config';
import { startQueryApi } from './bootstrap.js';

/**
 * The merchants' GraphQL API. Stateless: scale out by running more instances
 * behind a load balancer; each has its own pool against the read replica or primary.
 */
try {
  await startQueryApi(loadQueryApiConfig());
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
}
