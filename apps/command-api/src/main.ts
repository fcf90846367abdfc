import cluster from 'node:cluster';
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
  if (workers === 1 || !cluster.isPrimary) {
    await startCommandApi(config);
    return;
  }
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    console.error(`command-api worker ${worker.process.pid} exited (${signal ?? code}); stopping the others`);
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    process.exitCode = 1;
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.kill(signal);
    });
  }
}

try {
  await main();
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
}
