import { isUsableNatsPassword, newNatsPassword } from '@app/messaging';
import { join } from 'node:path';
import { keptSecret, repoRoot, type DataDir } from './data-dir.js';
import { ManagedProcess } from './managed-process.js';
import { isPortOpen } from './ports.js';

export interface LocalNats {
  process: ManagedProcess;
  /** The server, without credentials. */
  url: string;
  /** The URL each app connects with: its own user's credentials in it. */
  commandApiUrl: string;
  projectorUrl: string;
}

/**
 * nats-server with JetStream, its store in .data/nats so streams survive
 * restarts, and the users of deploy/nats-server.conf (no anonymous clients):
 * the command API's may publish, the projector's only consume.
 */
export async function startLocalNats(dir: DataDir, port: number, track: (p: ManagedProcess) => void): Promise<LocalNats> {
  const logFile = join(dir.logs, 'nats-server.log');
  const password = (file: string) => keptSecret(file, newNatsPassword, isUsableNatsPassword);
  const passwords = { commandApi: password(dir.natsCommandApiPassword), projector: password(dir.natsProjectorPassword) };
  const server = new ManagedProcess('nats-server', process.env.NATS_SERVER_BIN || 'nats-server', {
    args: ['-c', join(repoRoot, 'deploy/nats-server.conf'), '-js', '-sd', dir.nats, '-a', '127.0.0.1', '-p', String(port)],
    env: { ...process.env, NATS_COMMAND_API_PASSWORD: passwords.commandApi, NATS_PROJECTOR_PASSWORD: passwords.projector },
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
  return {
    process: server,
    url: `nats://127.0.0.1:${port}`,
    commandApiUrl: `nats://command-api:${passwords.commandApi}@127.0.0.1:${port}`,
    projectorUrl: `nats://projector:${passwords.projector}@127.0.0.1:${port}`,
  };
}
