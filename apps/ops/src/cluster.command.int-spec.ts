import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKysely, createPool, type Database } from '@app/database';
import { merchantMetricsProjection, PROJECTION_NAME } from '@app/merchant-metrics';
import { DEFAULT_STREAM_OPTIONS, ensurePaymentsStream } from '@app/messaging';
import { installVersion } from '@app/projections';
import { eventually, NatsServerProcess, testDatabase, type TestDatabase } from '@app/testing';
import { resolveCommand, type OpsContext } from './cli.js';
import { clusterCommands } from './cluster.command.js';

describe('ops cluster status', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let db: Kysely<Database>;
  let servers: NatsServerProcess[];

  const status = async (...argv: string[]): Promise<string[][]> => {
    const lines: string[] = [];
    const context: OpsContext = { db: async () => db, databaseUrl: () => database.url, out: (line) => lines.push(line) };
    const { command, args, options } = resolveCommand([clusterCommands], ['cluster', 'status', ...argv]);
    await command.run(context, args, options);
    return lines.map((l) => l.split(/ {2,}/));
  };

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
    db = createKysely(pool);
    servers = await NatsServerProcess.startCluster(3);
    const nc = await connect({ servers: servers.map((s) => s.url) });
    try {
      // The cluster answers JetStream requests once it has elected its meta leader.
      await eventually(async () => ensurePaymentsStream(await jetstreamManager(nc), { ...DEFAULT_STREAM_OPTIONS, replicas: 3 }), 30_000, 500);
    } finally {
      await nc.close();
    }
    const client = await pool.connect();
    try {
      await installVersion(client, merchantMetricsProjection, { version: 1, partitions: 16, codeRevision: 'test' });
    } finally {
      client.release();
    }
    await pool.query(`insert into projections.members values ($1, 1, 'host-a:101:x', now() + interval '1 minute'), ($1, 1, 'host-b:202:y', now() - interval '1 minute')`, [PROJECTION_NAME]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all((servers ?? []).map((s) => s.dispose()));
    await db?.destroy();
    await database?.drop();
  });

  it('lists the database, each NATS server with its part in the stream, and each projector with its heartbeat', async () => {
    const rows = await status('--nats', NatsServerProcess.clusterUrl(servers));
    expect(rows[0]).toEqual(['KIND', 'NAME', 'ROLE', 'LAG', 'HEALTH']);
    expect(rows[1]).toEqual(['postgres', expect.stringMatching(/^(127\.0\.0\.1|localhost):\d+$/), 'primary', '-', 'ok']);
    const nats = rows.filter((r) => r[0] === 'nats');
    expect(nats.map((r) => r[1]).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(nats.filter((r) => r[2] === 'stream leader')).toHaveLength(1);
    expect(nats.filter((r) => r[2] === 'stream replica').map((r) => r[4])).toEqual(['ok', 'ok']);
    expect(rows.filter((r) => r[0] === 'projector')).toEqual([
      ['projector', 'host-a:101:x', 'merchant-metrics v1; 0 leases', '-', 'ok'],
      ['projector', 'host-b:202:y', 'merchant-metrics v1; 0 leases', '-', 'heartbeat expired'],
    ]);
  });

  it('shows a server that is down as unreachable, and another one leading the stream', async () => {
    const before = (await status('--nats', NatsServerProcess.clusterUrl(servers))).find((r) => r[2] === 'stream leader')![1]!;
    const leader = servers.find((s) => s.serverName === before)!;
    await leader.stop('SIGKILL');
    try {
      await eventually(async () => {
        const nats = (await status('--nats', NatsServerProcess.clusterUrl(servers))).filter((r) => r[0] === 'nats');
        expect(nats.filter((r) => r[4] === 'unreachable').map((r) => r[1])).toEqual([`nats://127.0.0.1:${leader.port}`]);
        expect(nats.filter((r) => r[2] === 'stream leader')).toHaveLength(1);
      }, 30_000, 500);
    } finally {
      await leader.start();
    }
  }, 60_000);

  it('says when it was not given the NATS servers', async () => {
    const saved = process.env.NATS_URL;
    delete process.env.NATS_URL;
    try {
      const rows = await status();
      expect(rows.filter((r) => r[0] === 'nats')).toEqual([]);
      expect(rows[rows.length - 1]).toEqual(['(NATS not asked: set NATS_URL or --nats to the servers, comma-separated)']);
    } finally {
      if (saved !== undefined) process.env.NATS_URL = saved;
    }
  });
});
