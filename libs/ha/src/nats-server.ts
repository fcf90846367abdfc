import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from './ports.js';

/** The stack's NATS users and their rights (deploy/nats-server.conf), as `npm start` and compose run them. */
export const NATS_CONFIG = fileURLToPath(new URL('../../../deploy/nats-server.conf', import.meta.url));

/** Passwords of deploy/nats-server.conf's users (newNatsPassword from @app/messaging makes them). */
export interface NatsPasswords {
  'command-api': string;
  projector: string;
}

/**
 * A real nats-server with JetStream, on a free loopback port and a temporary
 * store directory. stop() and start() keep the port and the store, so a test
 * can take NATS away and bring the same server back.
 */
/** Where a server of a cluster listens for routes, and the others' route URLs. */
interface ClusterMembership {
  clusterName: string;
  serverName: string;
  routePort: number;
  routes: string[];
}

export class NatsServerProcess {
  private child?: ChildProcess;

  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly passwords?: NatsPasswords,
    private readonly cluster?: ClusterMembership,
  ) {}

  /** The server's name in its cluster (JetStream's `server_name`), or undefined when alone. */
  get serverName(): string | undefined {
    return this.cluster?.serverName;
  }

  /**
   * `size` servers forming one JetStream cluster on loopback: each with its
   * own client port, route port, server name and store directory, routes to
   * all the others. The servers start together (JetStream's meta group needs
   * a quorum before it answers).
   */
  static async startCluster(size: number, options: { users?: NatsPasswords } = {}): Promise<NatsServerProcess[]> {
    const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort() })));
    const clusterName = `payments-${ports[0]!.client}`;
    const servers = ports.map((p, i) => new NatsServerProcess(p.client, mkdtempSync(join(tmpdir(), `nats-js-n${i + 1}-`)), options.users, {
      clusterName, serverName: `n${i + 1}`, routePort: p.route,
      routes: ports.filter((_, j) => j !== i).map((o) => `nats://127.0.0.1:${o.route}`),
    }));
    await Promise.all(servers.map((s) => s.start()));
    return servers;
  }

  /** NATS_URL for a client of every server of a cluster, with a user's credentials when the servers have users. */
  static clusterUrl(servers: readonly NatsServerProcess[], user?: keyof NatsPasswords): string {
    return servers.map((s, i) => (user && i === 0 ? s.urlFor(user) : s.url)).join(',');
  }

  /** With `users`, the server refuses anonymous clients and knows deploy/nats-server.conf's users. */
  static async start(options: { users?: NatsPasswords } = {}): Promise<NatsServerProcess> {
    const server = new NatsServerProcess(await freePort(), mkdtempSync(join(tmpdir(), 'nats-js-')), options.users);
    await server.start();
    return server;
  }

  /** The server's URL, with no credentials. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** The URL with a user's credentials in it, as the apps take NATS_URL. */
  urlFor(user: keyof NatsPasswords): string {
    if (!this.passwords) throw new Error('this nats-server has no users');
    return `nats://${user}:${encodeURIComponent(this.passwords[user])}@127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const bin = process.env.NATS_SERVER_BIN ?? 'nats-server';
    const users = this.passwords ? ['-c', NATS_CONFIG] : [];
    const cluster = this.cluster
      ? ['--server_name', this.cluster.serverName, '--cluster_name', this.cluster.clusterName,
          '--cluster', `nats://127.0.0.1:${this.cluster.routePort}`, '--routes', this.cluster.routes.join(',')]
      : [];
    const child = spawn(bin, [...users, '-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, ...cluster], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: this.passwords
        ? { ...process.env, NATS_COMMAND_API_PASSWORD: this.passwords['command-api'], NATS_PROJECTOR_PASSWORD: this.passwords.projector }
        : process.env,
    });
    let stderr = '';
    child.stderr?.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`nats-server exited with ${code}: ${stderr}`))),
    );
    child.once('error', () => undefined);
    this.child = child;
    await Promise.race([waitForPort(this.port), exited]);
    exited.catch(() => undefined);
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
