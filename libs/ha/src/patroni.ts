import { readFileSync, writeFileSync, mkdirSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon, until } from './process.js';
import { chownToServer, postgresBinDir, serverUser } from './postgres-user.js';

/** Passwords of the superuser and the replication user, the same on every node. */
export interface PatroniSecrets {
  superuser: string;
  replication: string;
}

/** How the cluster fails over: Patroni's timers (seconds) and its synchronous mode. */
export interface PatroniTimers {
  /** The leader key's lifetime: a primary that stops renewing it is replaced this long after. */
  ttl: number;
  loopWait: number;
  retryTimeout: number;
}

/** Short timers for one machine: a dead primary is replaced within about ttl + loop_wait seconds. */
export const FAST_FAILOVER: PatroniTimers = { ttl: 10, loopWait: 1, retryTimeout: 3 };

export interface PatroniMember {
  name: string;
  role: 'leader' | 'replica' | 'sync_standby' | string;
  state: string;
  host: string;
  port: number;
  timeline?: number;
  lag?: number | string;
}

export interface PatroniNodeOptions {
  scope: string;
  name: string;
  /** Where the node keeps its data directory, configuration and log. */
  dir: string;
  pgPort: number;
  restPort: number;
  etcdUrl: string;
  secrets: PatroniSecrets;
  timers?: PatroniTimers;
}

/**
 * One PostgreSQL server managed by Patroni (Debian's `patroni` over Debian's
 * PostgreSQL): the first to take the leader key in etcd initialises the
 * cluster and is the primary, the others clone it with pg_basebackup and
 * stream from it through a replication slot. Synchronous mode is on and not
 * strict: a commit waits for one standby while one is there, and goes on
 * asynchronously (Patroni empties synchronous_standby_names) when none is.
 */
export class PatroniNode {
  private readonly daemon: Daemon;
  readonly dataDir: string;
  readonly configFile: string;

  constructor(readonly options: PatroniNodeOptions) {
    mkdirSync(options.dir, { recursive: true });
    chownToServer(options.dir);
    this.dataDir = join(options.dir, 'data');
    this.configFile = join(options.dir, 'patroni.yml');
    writeFileSync(this.configFile, patroniConfig(options, this.dataDir), { mode: 0o600 });
    chownToServer(this.configFile);
    const user = serverUser();
    this.daemon = new Daemon(`patroni ${options.name}`, process.env.PATRONI_BIN ?? 'patroni', [this.configFile], {
      cwd: options.dir,
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      env: { PATH: process.env.PATH, LANG: 'C.UTF-8', HOME: options.dir },
    });
  }

  get name(): string {
    return this.options.name;
  }

  get pgPort(): number {
    return this.options.pgPort;
  }

  get restUrl(): string {
    return `http://127.0.0.1:${this.options.restPort}`;
  }

  get running(): boolean {
    return this.daemon.running;
  }

  start(): void {
    this.daemon.start();
  }

  recentOutput(): string {
    return this.daemon.recentOutput();
  }

  /** Throws with Patroni's output if it has exited. */
  assertRunning(): void {
    this.daemon.assertRunning();
  }

  /** Patroni's view of the whole cluster (GET /cluster). */
  async cluster(): Promise<PatroniMember[]> {
    const res = await fetch(`${this.restUrl}/cluster`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) throw new Error(`${this.name}: /cluster answered ${res.status}`);
    const body = (await res.json()) as { members: PatroniMember[] };
    return body.members;
  }

  /** 200 when this node's PostgreSQL is the running primary (haproxy's check for the primary port). */
  async isPrimary(): Promise<boolean> {
    return fetch(`${this.restUrl}/primary`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false);
  }

  /** 200 when this node's PostgreSQL is a running, streaming standby. */
  async isReplica(): Promise<boolean> {
    return fetch(`${this.restUrl}/replica`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false);
  }

  /** The postmaster's pid, from postmaster.pid, while the file is there. */
  postmasterPid(): number | undefined {
    const file = join(this.dataDir, 'postmaster.pid');
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /**
   * The machine lost: Patroni and every PostgreSQL process of the node killed
   * with SIGKILL, nothing shut down cleanly (the postmaster runs in a session
   * of its own, so its whole process group goes).
   */
  async kill(): Promise<void> {
    const postmaster = this.postmasterPid();
    await this.daemon.stop('SIGKILL');
    if (postmaster) killGroup(postmaster);
  }

  /** Patroni stops PostgreSQL (fast shutdown) and leaves the leader key before it exits. */
  async stop(): Promise<void> {
    await this.daemon.stop('SIGTERM');
    const postmaster = this.postmasterPid();
    if (postmaster) killGroup(postmaster);
  }
}

function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function patroniConfig(o: PatroniNodeOptions, dataDir: string): string {
  const t = o.timers ?? FAST_FAILOVER;
  const socketDir = join(o.dir, 'socket');
  mkdirSync(socketDir, { recursive: true });
  chmodSync(socketDir, 0o700);
  chownToServer(socketDir);
  const q = (s: string) => JSON.stringify(s);
  // YAML is a superset of JSON: every value is written as a JSON string or number.
  return [
    `scope: ${q(o.scope)}`,
    `name: ${q(o.name)}`,
    'log:',
    '  level: WARNING',
    'restapi:',
    `  listen: ${q(`127.0.0.1:${o.restPort}`)}`,
    `  connect_address: ${q(`127.0.0.1:${o.restPort}`)}`,
    'etcd3:',
    `  hosts: ${q(new URL(o.etcdUrl).host)}`,
    'bootstrap:',
    '  dcs:',
    `    ttl: ${t.ttl}`,
    `    loop_wait: ${t.loopWait}`,
    `    retry_timeout: ${t.retryTimeout}`,
    '    maximum_lag_on_failover: 1048576',
    '    synchronous_mode: true',
    '    synchronous_mode_strict: false',
    '    postgresql:',
    '      use_pg_rewind: true',
    '      use_slots: true',
    '      parameters:',
    '        wal_level: replica',
    '        hot_standby: "on"',
    '        hot_standby_feedback: "on"',
    '        wal_log_hints: "on"',
    '        max_connections: 300',
    '        max_wal_senders: 10',
    '        max_replication_slots: 10',
    '        wal_keep_size: "256MB"',
    '        synchronous_commit: "on"',
    '  initdb:',
    '    - encoding: UTF8',
    '    - locale: C.UTF-8',
    '  pg_hba:',
    '    - local all all peer',
    '    - host replication replicator 127.0.0.1/32 scram-sha-256',
    '    - host all all 127.0.0.1/32 scram-sha-256',
    'postgresql:',
    `  listen: ${q(`127.0.0.1:${o.pgPort}`)}`,
    `  connect_address: ${q(`127.0.0.1:${o.pgPort}`)}`,
    `  data_dir: ${q(dataDir)}`,
    `  bin_dir: ${q(postgresBinDir())}`,
    `  pgpass: ${q(join(o.dir, 'pgpass'))}`,
    '  authentication:',
    '    superuser:',
    '      username: postgres',
    `      password: ${q(o.secrets.superuser)}`,
    '    replication:',
    '      username: replicator',
    `      password: ${q(o.secrets.replication)}`,
    '  parameters:',
    `    unix_socket_directories: ${q(socketDir)}`,
    '    password_encryption: scram-sha-256',
    // Loopback only, and the processes killed are never the machine: the page cache survives them.
    '    fsync: "off"',
    '    full_page_writes: "on"',
    '',
  ].join('\n');
}
