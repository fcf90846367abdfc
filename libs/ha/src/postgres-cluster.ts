import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd } from './etcd.js';
import { PatroniNode, type PatroniMember, type PatroniSecrets, type PatroniTimers } from './patroni.js';
import { chownToServer } from './postgres-user.js';
import { until } from './process.js';

export interface PostgresClusterPorts {
  etcdClient: number;
  etcdPeer: number;
  /** One per node. */
  nodes: { pg: number; rest: number }[];
}

/**
 * A PostgreSQL primary and its hot standbys under Patroni, with the etcd it
 * elects the leader in, all on loopback under one directory.
 */
export class PostgresCluster {
  readonly etcd: Etcd;
  readonly nodes: PatroniNode[];

  constructor(readonly dir: string, ports: PostgresClusterPorts, readonly secrets: PatroniSecrets, timers?: PatroniTimers) {
    mkdirSync(dir, { recursive: true });
    chownToServer(dir);
    const scope = `payments-${ports.etcdClient}`;
    this.etcd = new Etcd(join(dir, 'etcd'), ports.etcdClient, ports.etcdPeer);
    this.nodes = ports.nodes.map((p, i) => new PatroniNode({
      scope, name: `pg${i + 1}`, dir: join(dir, `pg${i + 1}`), pgPort: p.pg, restPort: p.rest, etcdUrl: this.etcd.url, secrets, timers,
    }));
  }

  /** New secrets for a cluster of one's own. */
  static newSecrets(): PatroniSecrets {
    return { superuser: randomBytes(18).toString('hex'), replication: randomBytes(18).toString('hex') };
  }

  /** Starts etcd, then every node; resolves when there is a primary and every other node streams from it as a standby. */
  async start(timeoutMs = 90_000): Promise<void> {
    await this.etcd.start();
    // The first node initialises the cluster; the others clone it once it is up.
    this.nodes[0]!.start();
    await until(async () => {
      this.nodes[0]!.assertRunning();
      if (!(await this.nodes[0]!.isPrimary())) throw new Error(`pg1 is not primary yet\n${this.nodes[0]!.recentOutput()}`);
    }, timeoutMs, 'the first PostgreSQL node did not become primary');
    for (const node of this.nodes.slice(1)) node.start();
    await this.waitHealthy(timeoutMs);
  }

  /** Every node running: one leader, the others streaming, one of them the synchronous standby (with two or more nodes). */
  async waitHealthy(timeoutMs = 60_000): Promise<PatroniMember[]> {
    return until(async () => {
      const members = await this.members();
      const leader = members.filter((m) => m.role === 'leader' && m.state === 'running');
      const standbys = members.filter((m) => m.role !== 'leader' && (m.state === 'streaming' || m.state === 'running'));
      if (leader.length !== 1 || standbys.length !== this.nodes.length - 1) throw new Error(`members: ${JSON.stringify(members)}`);
      if (this.nodes.length > 1 && !members.some((m) => m.role === 'sync_standby')) throw new Error(`no synchronous standby yet: ${JSON.stringify(members)}`);
      for (const n of this.nodes.filter((n) => n.name !== leader[0]!.name)) {
        if (!(await n.isReplica())) throw new Error(`${n.name} is not a streaming replica yet`);
      }
      return members;
    }, timeoutMs, 'the PostgreSQL cluster did not become healthy', 250);
  }

  /** Patroni's view of the cluster, from the first node that answers. */
  async members(): Promise<PatroniMember[]> {
    let last: unknown;
    for (const node of this.nodes) {
      try {
        return await node.cluster();
      } catch (error) {
        last = error;
      }
    }
    throw last instanceof Error ? last : new Error('no Patroni node answered');
  }

  /** The node that is the primary now. */
  async primary(): Promise<PatroniNode> {
    for (const node of this.nodes) if (await node.isPrimary()) return node;
    throw new Error('no node is primary');
  }

  /** The URL of the superuser on one node (not through the load balancer). */
  superuserUrl(node: PatroniNode, database = 'postgres'): string {
    return `postgres://postgres:${this.secrets.superuser}@127.0.0.1:${node.pgPort}/${database}`;
  }

  async stop(): Promise<void> {
    for (const node of [...this.nodes].reverse()) await node.stop();
    await this.etcd.stop();
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    await this.etcd.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
