import { Daemon, until } from './process.js';

/**
 * A one-member etcd (Debian's etcd-server) on loopback: the store Patroni
 * keeps the cluster's leader key in. One member is enough on one machine; a
 * real deployment runs three on three machines.
 */
export class Etcd {
  private readonly daemon: Daemon;

  constructor(readonly dataDir: string, readonly clientPort: number, peerPort: number) {
    const peer = `http://127.0.0.1:${peerPort}`;
    this.daemon = new Daemon('etcd', process.env.ETCD_BIN ?? 'etcd', [
      '--name', 'etcd1', '--data-dir', dataDir,
      '--listen-client-urls', this.url, '--advertise-client-urls', this.url,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `etcd1=${peer}`, '--initial-cluster-state', 'new',
      '--log-level', 'warn',
    ]);
  }

  get url(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  async start(): Promise<void> {
    this.daemon.start();
    await until(async () => {
      this.daemon.assertRunning();
      const res = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(1000) });
      if (!res.ok) throw new Error(`etcd /health answered ${res.status}`);
    }, 20_000, 'etcd did not become healthy');
  }

  stop(signal?: NodeJS.Signals): Promise<void> {
    return this.daemon.stop(signal);
  }
}
