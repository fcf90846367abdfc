import cluster from 'node:cluster';

/**
 * Runs `start` in this process when `workers` is 1, else in that many
 * node:cluster workers sharing the listening port. If a worker dies the others
 * are stopped and the primary exits 1 (let the supervisor restart the whole
 * instance); SIGTERM/SIGINT are passed on and the primary exits once all
 * workers have stopped.
 */
export async function runClustered(name: string, workers: number, start: () => Promise<unknown>): Promise<void> {
  if (workers === 1 || !cluster.isPrimary) {
    await start();
    return;
  }
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    console.error(`${name} worker ${worker.process.pid} exited (${signal ?? code}); stopping the others`);
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
