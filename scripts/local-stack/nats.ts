import { join } from 'node:path';
import type { DataDir } from './data-dir.js';
import { ManagedProcess } from './managed-process.js';
import { isPortOpen } from './ports.js';

export interface LocalNats {
  process: ManagedProcess;
  url: string;
}

/** nats-server with JetStream, its store in .data/nats so streams survive restarts. */
export async function startLocalNats(dir: DataDir, port: number, track: (p: ManagedProcess) => void): Promise<LocalNats> {
  const logFile = join(dir.logs, 'nats-server.log');
  const server = new ManagedProcess('nats-server', process.env.NATS_SERVER_BIN || 'nats-server', {
    args: ['-js', '-sd', dir.nats, '-a', '127.0.0.1', '-p', String(port)],
    output: { logFile },
    // nats-server treats SIGTERM as a graceful shutdown (JetStream state is flushed).
    stopSignal: 'SIGTERM',
    stopTimeoutMs: 15_000,
  });
  track(server);
  const deadline = Date.now() + 20_000;
  while (!(await isPortOpen('127.0.0.1', port))) {
    if (!server.running) throw new Error(`nats-server exited during start-up:\n${server.recentOutput()}`);
    if (Date.now() > deadline) throw new Error(`nats-server did not open port ${port} within 20 s:\n${server.recentOutput()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { process: server, url: `nats://127.0.0.1:${port}` };
}
