import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { sql } from 'kysely';
import { readUrlList, redactUrl } from '@app/config';
import { natsConnectOptions, PAYMENTS_STREAM } from '@app/messaging';
import { readHaproxyStats, type PatroniMember } from '@app/ha';
import { formatTable, type CommandGroup, type OpsCommand, type OpsContext } from './cli.js';

/** One line of `cluster status`. */
export interface NodeStatus {
  kind: 'postgres' | 'nats' | 'projector' | 'patroni' | 'instance';
  name: string;
  role: string;
  lag: string;
  health: string;
}

const NATS_TIMEOUT_MS = 2000;

/** The database the CLI is connected to, and the standbys it streams to. */
async function postgresNodes(context: OpsContext): Promise<NodeStatus[]> {
  const db = await context.db();
  const { rows: [self] } = await sql<{ standby: boolean; lag: string | null }>`
    select pg_is_in_recovery() as standby,
           case when pg_is_in_recovery() then coalesce(extract(epoch from now() - pg_last_xact_replay_timestamp())::numeric(10, 1)::text || ' s', '?') end as lag`.execute(db);
  const url = new URL(context.databaseUrl());
  const nodes: NodeStatus[] = [{
    kind: 'postgres', name: `${url.hostname}:${url.port || 5432}`, role: self!.standby ? 'standby' : 'primary', lag: self!.lag ?? '-', health: 'ok',
  }];
  // Seen from the primary: each standby fed by streaming replication (names and lags need pg_monitor or superuser).
  const { rows: standbys } = await sql<{ name: string; state: string; sync_state: string; lag: string | null }>`
    select coalesce(nullif(application_name, ''), client_addr::text, '?') as name, state, sync_state,
           extract(epoch from replay_lag)::numeric(10, 1)::text as lag
      from pg_stat_replication order by 1`.execute(db);
  for (const s of standbys) {
    nodes.push({ kind: 'postgres', name: s.name, role: `standby (${s.sync_state})`, lag: s.lag === null ? '0.0 s' : `${s.lag} s`, health: s.state });
  }
  return nodes;
}

/** Projector processes by their heartbeats (projections.members), with the versions each follows. */
async function projectorNodes(context: OpsContext): Promise<NodeStatus[]> {
  const db = await context.db();
  const { rows } = await sql<{ owner: string; follows: string; alive: boolean; partitions: number }>`
    select m.owner, string_agg(m.projection || ' v' || m.version, ', ' order by m.projection, m.version) as follows,
           bool_or(m.expires_at > now()) as alive,
           (select count(*)::int from projections.leases l where l.owner = m.owner and l.expires_at > now()) as partitions
      from projections.members m group by m.owner order by m.owner`.execute(db);
  return rows.map((r) => ({
    kind: 'projector', name: r.owner, role: `${r.follows}; ${r.partitions} leases`, lag: '-', health: r.alive ? 'ok' : 'heartbeat expired',
  }));
}

/**
 * Patroni's members (GET /cluster of the first of `urls` that answers): each
 * node's role, state, timeline and lag in bytes. With members but no
 * synchronous standby, commits go on asynchronously (synchronous mode is not
 * strict): said on the leader's line, since the loss of the primary would
 * then lose what it acknowledged since.
 */
async function patroniNodes(urls: string[]): Promise<NodeStatus[]> {
  let members: PatroniMember[] | undefined;
  for (const url of urls) {
    members = await fetch(`${url.replace(/\/$/, '')}/cluster`, { signal: AbortSignal.timeout(NATS_TIMEOUT_MS) })
      .then(async (r) => (r.ok ? ((await r.json()) as { members: PatroniMember[] }).members : undefined), () => undefined);
    if (members) break;
  }
  if (!members) return [{ kind: 'patroni', name: urls.join(', '), role: '-', lag: '-', health: 'unreachable' }];
  const synchronous = members.some((m) => m.role === 'sync_standby' && (m.state === 'streaming' || m.state === 'running'));
  return members.map((m) => {
    const leader = m.role === 'leader';
    const health = leader && !synchronous ? `${m.state}; ALERT: no synchronous standby, commits are asynchronous` : m.state;
    return {
      kind: 'patroni', name: `${m.name} ${m.host}:${m.port}`, role: `${leader ? 'primary' : m.role === 'sync_standby' ? 'standby (sync)' : 'standby'}, timeline ${m.timeline ?? '?'}`,
      lag: leader ? '-' : `${m.lag ?? '?'} bytes`, health,
    };
  });
}

/** The API instances behind the load balancer: haproxy's view of each (its statistics CSV). */
async function instanceNodes(statsUrl: string): Promise<NodeStatus[]> {
  const servers = await readHaproxyStats(statsUrl).catch((error: Error) => error);
  if (servers instanceof Error) return [{ kind: 'instance', name: statsUrl, role: '-', lag: '-', health: `haproxy unreachable (${servers.message})` }];
  return servers.map((s) => ({
    kind: 'instance', name: `${s.proxy}/${s.server}`, role: `${s.sessions} sessions`, lag: '-', health: `${s.status}${s.check ? ` (${s.check})` : ''}`,
  }));
}

async function reach(url: string): Promise<NatsConnection | undefined> {
  return connect({ ...natsConnectOptions(url), timeout: NATS_TIMEOUT_MS, reconnect: false, maxReconnectAttempts: 0 }).catch(() => undefined);
}

/**
 * Each server of NATS_URL's list: reachable or not, its name, and its part
 * in the PAYMENTS stream (leader, or replica with how far behind it is).
 */
async function natsNodes(natsUrl: string): Promise<NodeStatus[]> {
  const urls = natsUrl.split(',').map((u) => u.trim());
  // Credentials of the first URL that has them, for every server (as the apps connect).
  const { user, pass, token } = natsConnectOptions(natsUrl);
  const connections = await Promise.all(urls.map(async (u) => {
    const target = new URL(u);
    if (user && !target.username) {
      target.username = encodeURIComponent(token ?? user);
      if (pass) target.password = encodeURIComponent(pass);
    }
    return { url: u, nc: await reach(target.toString()) };
  }));
  try {
    const reachable = connections.find((c) => c.nc);
    const stream = reachable
      ? await jetstreamManager(reachable.nc!).then((jsm) => jsm.streams.info(PAYMENTS_STREAM)).catch(() => undefined)
      : undefined;
    return connections.map(({ url, nc }) => {
      const name = nc?.info?.server_name ?? redactUrl(url);
      if (!nc) return { kind: 'nats', name, role: '-', lag: '-', health: 'unreachable' };
      if (!stream) return { kind: 'nats', name, role: 'no PAYMENTS stream', lag: '-', health: 'ok' };
      if (stream.cluster?.leader === name || (!stream.cluster?.leader && !stream.cluster?.replicas)) {
        return { kind: 'nats', name, role: 'stream leader', lag: '0', health: 'ok' };
      }
      const replica = stream.cluster?.replicas?.find((r) => r.name === name);
      if (!replica) return { kind: 'nats', name, role: 'not a stream replica', lag: '-', health: 'ok' };
      return { kind: 'nats', name, role: 'stream replica', lag: `${replica.lag ?? 0} ops`, health: replica.current ? 'ok' : 'catching up' };
    });
  } finally {
    await Promise.all(connections.map((c) => c.nc?.close()));
  }
}

const status: OpsCommand = {
  name: 'status',
  args: [],
  options: { nats: 'URLS', patroni: 'URLS', haproxy: 'URL' },
  summary:
    'every PostgreSQL node (this one and the standbys it feeds), NATS server (--nats or NATS_URL, a comma-separated list), Patroni member ' +
    '(--patroni or PATRONI_URLS: REST API URLs), API instance behind haproxy (--haproxy or HAPROXY_STATS_URL: its statistics page) and projector process: role, lag, health',
  async run(context, _args, options) {
    const natsUrl = options.nats ?? process.env.NATS_URL;
    const patroni = (options.patroni ?? process.env.PATRONI_URLS)?.split(',').map((u) => u.trim()).filter(Boolean);
    const haproxy = options.haproxy ?? process.env.HAPROXY_STATS_URL;
    const nodes = [...(await postgresNodes(context))];
    if (patroni?.length) nodes.push(...(await patroniNodes(readUrlList({ PATRONI_URLS: patroni.join(',') }, 'PATRONI_URLS', ['http:', 'https:']).split(','))));
    if (natsUrl) nodes.push(...(await natsNodes(readUrlList({ NATS_URL: natsUrl }, 'NATS_URL', ['nats:', 'tls:']))));
    if (haproxy) nodes.push(...(await instanceNodes(haproxy)));
    nodes.push(...(await projectorNodes(context)));
    const rows = nodes.map((n) => [n.kind, n.name, n.role, n.lag, n.health]);
    for (const line of formatTable(['KIND', 'NAME', 'ROLE', 'LAG', 'HEALTH'], rows)) context.out(line);
    if (!natsUrl) context.out('(NATS not asked: set NATS_URL or --nats to the servers, comma-separated)');
  },
};

/** The replicated topology, as one table. */
export const clusterCommands: CommandGroup = {
  name: 'cluster',
  summary: 'the nodes and instances of the deployment',
  commands: [status],
};
