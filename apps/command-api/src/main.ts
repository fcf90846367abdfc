import { runClustered } from '@app/cluster';
import { ConfigError, loadCommandApiConfig, readInt } from '@app/config';
import { startCommandApi } from './bootstrap.js';

/**
 * COMMAND_API_WORKERS > 1 runs that many processes sharing the port (node:cluster),
 * so request parsing and validation use more than one core. Workers are
 * independent: each has its own pools, group commits and relay (relays share
 * partitions through the database). Prefer one worker per container where
 * containers scale out; /metrics then describes the whole instance.
 */
async function main(): Promise<void> {
  const workers = readInt(process.env, 'COMMAND_API_WORKERS', 1, { min: 1, max: 64 });
  const config = loadCommandApiConfig();
  await runClustered('command-api', workers, () => startCommandApi(config));
}

try {
  await main();
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
}
