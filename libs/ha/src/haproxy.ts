import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon, until } from './process.js';

export interface Backend {
  name: string;
  port: number;
}

export interface HaproxyOptions {
  dir: string;
  /** PostgreSQL nodes: `pgPort`, and the Patroni REST port the checks ask. */
  postgres: { name: string; pgPort: number; restPort: number }[];
  /** Where the apps reach the primary (read-write). */
  primaryPort: number;
  /** Where the query API and analysts reach a standby, or the primary when no standby is up. */
  replicaPort: number;
  /** HTTP front ends, each over its app's instances, checked on /health/ready. */
  http: { name: string; port: number; servers: Backend[] }[];
  /** The statistics page (CSV at /stats;csv), for `ops cluster status`. */
  statsPort: number;
}

/** A server's row of haproxy's statistics CSV. */
export interface HaproxyServerStatus {
  proxy: string;
  server: string;
  /** UP, DOWN, NOLB, MAINT, … (haproxy's words). */
  status: string;
  /** Sessions now. */
  sessions: number;
  /** Time since the last status change, s. */
  lastChangeSeconds: number;
  /** The last health check's result (L7OK, L4CON, …), empty without checks. */
  check: string;
}

/**
 * Debian's haproxy in front of everything that has more than one instance:
 * - `postgres_primary` (TCP): the node whose Patroni answers 200 on /primary;
 * - `postgres_replica` (TCP): the standbys (Patroni's /replica), or, when none
 *   is up, the primary; a database server marked down has its sessions cut,
 *   so clients reconnect at once to what is up;
 * - one HTTP front end per app, checked on /health/ready every 500 ms, with
 *   a refused connection or an empty answer retried on another instance.
 */
export class Haproxy {
  private readonly daemon: Daemon;

  constructor(readonly options: HaproxyOptions) {
    const configFile = join(options.dir, 'haproxy.cfg');
    writeFileSync(configFile, haproxyConfig(options), { mode: 0o600 });
    this.daemon = new Daemon('haproxy', process.env.HAPROXY_BIN ?? 'haproxy', ['-db', '-f', configFile]);
  }

  get statsUrl(): string {
    return `http://127.0.0.1:${this.options.statsPort}/stats`;
  }

  /**
   * Resolves once every database server has been checked: until its first
   * check, haproxy counts a server as up, so the primary port could take a
   * connection to the standby (cut a moment later, when the check marks it down).
   */
  async start(): Promise<void> {
    this.daemon.start();
    await until(async () => {
      this.daemon.assertRunning();
      const database = (await this.servers()).filter((s) => s.proxy.startsWith('postgres_'));
      const unchecked = database.filter((s) => s.check === '' || s.check.includes('INI'));
      if (unchecked.length) throw new Error(`not checked yet: ${unchecked.map((s) => `${s.proxy}/${s.server}`).join(', ')}`);
    }, 10_000, 'haproxy did not start');
  }

  stop(): Promise<void> {
    return this.daemon.stop();
  }

  /** Every server's status, from the statistics CSV. */
  async servers(): Promise<HaproxyServerStatus[]> {
    return readHaproxyStats(this.statsUrl);
  }
}

/** Reads haproxy's statistics CSV (`<stats uri>;csv`) into rows, one per server. */
export async function readHaproxyStats(statsUrl: string): Promise<HaproxyServerStatus[]> {
  const res = await fetch(`${statsUrl.replace(/;csv$/, '')};csv`, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`haproxy statistics answered ${res.status}`);
  const [header, ...lines] = (await res.text()).trim().split('\n');
  const columns = header!.replace(/^# /, '').split(',');
  const at = (name: string) => columns.indexOf(name);
  return lines
    .map((line) => line.split(','))
    .filter((cells) => cells[at('svname')] !== 'FRONTEND' && cells[at('svname')] !== 'BACKEND')
    .map((cells) => ({
      proxy: cells[at('pxname')]!,
      server: cells[at('svname')]!,
      status: cells[at('status')]!,
      sessions: Number(cells[at('scur')]),
      lastChangeSeconds: Number(cells[at('lastchg')]),
      check: cells[at('check_status')] ?? '',
    }));
}

function haproxyConfig(o: HaproxyOptions): string {
  // A database server marked down has its sessions cut, so that clients reconnect to what is up at once; an
  // API instance's are not: one marked down because it is shutting down is draining the requests it holds.
  const pg = (check: string) =>
    o.postgres.map((n) => `  server ${n.name} 127.0.0.1:${n.pgPort} check port ${n.restPort} on-marked-down shutdown-sessions`).join('\n') + '\n' + `  option httpchk GET ${check}`;
  return `global
  maxconn 4000
  tune.bufsize 65536

defaults
  timeout connect 2s
  timeout check 2s
  retries 3
  option redispatch
  default-server inter 500ms fastinter 250ms downinter 1s fall 2 rise 2

listen stats
  bind 127.0.0.1:${o.statsPort}
  mode http
  timeout client 10s
  timeout server 10s
  stats enable
  stats uri /stats
  stats refresh 5s

# PostgreSQL: pooled connections sit idle for long, so the TCP timeouts are long.
listen postgres_primary
  bind 127.0.0.1:${o.primaryPort}
  mode tcp
  timeout client 1h
  timeout server 1h
  http-check expect status 200
${pg('/primary')}

frontend postgres_read
  bind 127.0.0.1:${o.replicaPort}
  mode tcp
  timeout client 1h
  use_backend postgres_replica if { nbsrv(postgres_replica) gt 0 }
  default_backend postgres_primary_for_reads

backend postgres_replica
  mode tcp
  balance leastconn
  timeout server 1h
  http-check expect status 200
${pg('/replica')}

backend postgres_primary_for_reads
  mode tcp
  timeout server 1h
  http-check expect status 200
${pg('/primary')}
${o.http.map((h) => `
listen ${h.name}
  bind 127.0.0.1:${h.port}
  mode http
  balance roundrobin
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 2s
  option http-buffer-request
  retry-on conn-failure empty-response response-timeout
  option httpchk GET /health/ready
  http-check expect status 200
${h.servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check`).join('\n')}
`).join('')}`;
}
