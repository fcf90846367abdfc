import { createKysely, createPool, ensureMemberLogin, isConnectionLoss, migrateToLatest, withClient } from '@app/database';
import { newNatsPassword } from '@app/messaging';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Haproxy } from './haproxy.js';
import { NatsServerProcess, type NatsPasswords } from './nats-server.js';
import type { PatroniSecrets, PatroniTimers } from './patroni.js';
import { PostgresCluster } from './postgres-cluster.js';
import { chownToServer } from './postgres-user.js';
import { freePort } from './ports.js';

/** The database every app of the topology uses. */
export const HA_DATABASE = 'payments';

/** Each app's login: a member of one group role the migrations made, as in `npm start`. */
export const HA_LOGINS = {
  commandApi: { role: 'payments_command_api', memberOf: 'payments_writer' },
  projector: { role: 'payments_projector', memberOf: 'projection_writer' },
  queryApi: { role: 'payments_query_api', memberOf: 'read_model_reader' },
  analyst: { role: 'payments_analyst', memberOf: 'analyst' },
} as const;

export type HaLogin = keyof typeof HA_LOGINS;

/** Where the topology listens; 0 for a free port of the system's choosing. */
export interface HaPorts {
  /** The load balancer's PostgreSQL ports. */
  primary: number;
  replica: number;
  /** The load balancer's HTTP ports, in front of every instance. */
  commandApi: number;
  queryApi: number;
  stats: number;
  /** Each app instance's own port (the load balancer's servers), one per instance. */
  commandApiInstances: number[];
  queryApiInstances: number[];
}

export interface HaTopologyOptions {
  dir: string;
  ports: HaPorts;
  /** PostgreSQL nodes (2: a primary and a synchronous standby). */
  postgresNodes?: number;
  natsNodes?: number;
  secrets?: { postgres: PatroniSecrets; nats: NatsPasswords; logins: Record<HaLogin, string> };
  timers?: PatroniTimers;
}

/**
 * The replicated topology on one machine, on loopback: a 3-node JetStream
 * cluster, a PostgreSQL primary and hot standby under Patroni (with etcd),
 * and haproxy in front of the database (primary and read ports) and of the
 * APIs' instances. The apps themselves are the caller's to start, with
 * `appEnvironment`: this starts the engines, migrates, and makes the logins.
 */
export class HaTopology {
  readonly postgres: PostgresCluster;
  nats: NatsServerProcess[] = [];
  haproxy?: Haproxy;
  readonly secrets: NonNullable<HaTopologyOptions['secrets']>;

  private constructor(readonly options: HaTopologyOptions, readonly ports: HaPorts, pgPorts: ConstructorParameters<typeof PostgresCluster>[1]) {
    this.secrets = options.secrets ?? {
      postgres: PostgresCluster.newSecrets(),
      nats: { 'command-api': newNatsPassword(), projector: newNatsPassword() },
      logins: { commandApi: secret(), projector: secret(), queryApi: secret(), analyst: secret() },
    };
    this.postgres = new PostgresCluster(join(options.dir, 'postgres'), pgPorts, this.secrets.postgres, options.timers);
  }

  /** Picks the ports still 0 and lays the directories out; nothing runs yet. */
  static async create(options: HaTopologyOptions): Promise<HaTopology> {
    mkdirSync(options.dir, { recursive: true });
    chownToServer(options.dir);
    const pick = async (p: number) => (p === 0 ? freePort() : p);
    const p = options.ports;
    const ports: HaPorts = {
      primary: await pick(p.primary), replica: await pick(p.replica), commandApi: await pick(p.commandApi), queryApi: await pick(p.queryApi),
      stats: await pick(p.stats),
      commandApiInstances: await Promise.all(p.commandApiInstances.map(pick)), queryApiInstances: await Promise.all(p.queryApiInstances.map(pick)),
    };
    const nodes = await Promise.all(Array.from({ length: options.postgresNodes ?? 2 }, async () => ({ pg: await freePort(), rest: await freePort() })));
    return new HaTopology(options, ports, { etcdClient: await freePort(), etcdPeer: await freePort(), nodes });
  }

  /** Starts every engine and prepares the database; resolves when the database is migrated and every engine is healthy. */
  async start(): Promise<void> {
    await this.postgres.start();
    this.nats = await NatsServerProcess.startCluster(this.options.natsNodes ?? 3, { users: this.secrets.nats });
    this.haproxy = new Haproxy({
      dir: this.options.dir,
      postgres: this.postgres.nodes.map((n) => ({ name: n.name, pgPort: n.pgPort, restPort: n.options.restPort })),
      primaryPort: this.ports.primary,
      replicaPort: this.ports.replica,
      statsPort: this.ports.stats,
      http: [
        { name: 'command_api', port: this.ports.commandApi, servers: this.ports.commandApiInstances.map((port, i) => ({ name: `command_api_${i + 1}`, port })) },
        { name: 'query_api', port: this.ports.queryApi, servers: this.ports.queryApiInstances.map((port, i) => ({ name: `query_api_${i + 1}`, port })) },
      ],
    });
    await this.haproxy.start();
    // Patroni may still move the primary role in its first seconds (the load balancer then cuts the
    // sessions): the migrations run in one transaction and the logins are idempotent, so a cut
    // connection is met by starting over.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.prepareDatabase();
        return;
      } catch (error) {
        const readOnly = (error as { code?: unknown } | null)?.code === '25006';
        if (attempt === 3 || !(isConnectionLoss(error) || readOnly)) throw error;
        await this.postgres.waitHealthy(60_000);
      }
    }
  }

  /** The superuser through the load balancer's primary port. */
  adminUrl(database = HA_DATABASE): string {
    return `postgres://postgres:${encodeURIComponent(this.secrets.postgres.superuser)}@127.0.0.1:${this.ports.primary}/${database}`;
  }

  /** A login's URL: the query API's and the analyst's through the read port, the others' through the primary port. */
  loginUrl(login: HaLogin): string {
    const port = login === 'queryApi' || login === 'analyst' ? this.ports.replica : this.ports.primary;
    return `postgres://${HA_LOGINS[login].role}:${encodeURIComponent(this.secrets.logins[login])}@127.0.0.1:${port}/${HA_DATABASE}`;
  }

  /** NATS_URL for an app's user: every server of the cluster. */
  natsUrl(user: keyof NatsPasswords): string {
    return NatsServerProcess.clusterUrl(this.nats, user);
  }

  /** What each app needs to reach the topology (its DATABASE_URL, NATS_URL and stream replicas). */
  appEnvironment(app: 'commandApi' | 'projector' | 'queryApi'): Record<string, string> {
    if (app === 'queryApi') return { DATABASE_URL: this.loginUrl('queryApi') };
    const nats = this.natsUrl(app === 'commandApi' ? 'command-api' : 'projector');
    return {
      DATABASE_URL: this.loginUrl(app), NATS_URL: nats,
      ...(app === 'commandApi' ? { NATS_STREAM_REPLICAS: String(Math.min(3, this.nats.length)) } : {}),
    };
  }

  private async prepareDatabase(): Promise<void> {
    await withClient(this.adminUrl('postgres'), async (client) => {
      const { rows } = await client.query('select 1 from pg_database where datname = $1', [HA_DATABASE]);
      if (rows.length === 0) await client.query(`create database ${HA_DATABASE}`);
    });
    const db = createKysely(createPool({ connectionString: this.adminUrl(), max: 2, applicationName: 'ha-topology' }));
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
    for (const login of Object.keys(HA_LOGINS) as HaLogin[]) {
      await ensureMemberLogin(this.adminUrl(), { ...HA_LOGINS[login], password: this.secrets.logins[login] });
    }
  }

  async stop(): Promise<void> {
    await this.haproxy?.stop();
    await Promise.all(this.nats.map((s) => s.stop()));
    await this.postgres.stop();
  }

  /** Kills everything and removes its data. */
  async dispose(): Promise<void> {
    await this.haproxy?.stop();
    await Promise.all(this.nats.map((s) => s.dispose()));
    await this.postgres.dispose();
  }
}

function secret(): string {
  return randomBytes(18).toString('hex');
}
