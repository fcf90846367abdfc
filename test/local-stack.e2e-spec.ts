import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '@app/database';
import { connect as natsConnect } from '@nats-io/transport-node';
import { eventually, freePort, NatsServerProcess, testDatabase, type TestDatabase } from '@app/testing';
import { paymentEventsGrpcClient, recordOverGrpc } from '../apps/command-api/src/testing/grpc-client.js';
import { ops } from './support/ops-cli.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * `npm start` exactly as the README gives it (`node scripts/start.mjs` is what
 * the npm script runs), pointed at the harness's PostgreSQL and a nats-server
 * of the test's own through DATABASE_URL and NATS_URL, so it must start
 * neither. Ctrl-C is a SIGINT to the whole process group, as a terminal sends it.
 */
describe('npm start with DATABASE_URL and NATS_URL', () => {
  let database: TestDatabase;
  let nats: NatsServerProcess;
  let dataDir: string;
  let stack: ChildProcess;
  let stdout = '';
  let exit: Promise<number | null>;
  const ports = { command: 0, projector: 0, query: 0, commandAdmin: 0, projectorAdmin: 0, queryAdmin: 0, grpc: 0 };

  beforeAll(async () => {
    database = await testDatabase();
    nats = await NatsServerProcess.start();
    dataDir = mkdtempSync(join(tmpdir(), 'local-stack-e2e-'));
    for (const name of Object.keys(ports) as Array<keyof typeof ports>) ports[name] = await freePort();
    stack = spawn(process.execPath, ['scripts/start.mjs'], {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        NATS_URL: nats.url,
        LOCAL_DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        COMMAND_API_PORT: String(ports.command),
        COMMAND_API_GRPC_PORT: String(ports.grpc),
        PROJECTOR_PORT: String(ports.projector),
        QUERY_API_PORT: String(ports.query),
        COMMAND_API_ADMIN_PORT: String(ports.commandAdmin),
        PROJECTOR_ADMIN_PORT: String(ports.projectorAdmin),
        QUERY_API_ADMIN_PORT: String(ports.queryAdmin),
        // Ports no test uses: were the stack to start its own servers, they would show up here.
        LOCAL_POSTGRES_PORT: String(await freePort()),
        LOCAL_NATS_PORT: String(await freePort()),
      },
    });
    stack.stdout!.on('data', (chunk) => (stdout += chunk));
    stack.stderr!.on('data', (chunk) => (stdout += chunk));
    exit = new Promise((resolve) => stack.once('exit', (code) => resolve(code)));
    await eventually(() => expect(stdout).toContain('press Ctrl-C to stop'), 120_000, 200);
  }, 150_000);

  afterAll(async () => {
    if (stack?.exitCode === null && stack.pid) {
      process.kill(-stack.pid, 'SIGKILL');
      await exit;
    }
    await nats?.dispose();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('uses the given servers, starts none, and prints the URLs and a working producer key', async () => {
    expect(stdout).toContain(`using PostgreSQL at `);
    expect(stdout).toContain(`using NATS at ${nats.url} (NATS_URL)`);
    expect(stdout).not.toContain('embedded PostgreSQL running');
    expect(stdout).not.toContain('nats-server (JetStream) running');
    expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
    expect(existsSync(join(dataDir, 'nats'))).toBe(false);
    expect(stdout).toContain(`command API    http://127.0.0.1:${ports.command}`);
    expect(stdout).toContain(`query API      http://127.0.0.1:${ports.query}/graphql`);
    // The password is never printed, even for a server the stack did not start.
    expect(stdout).not.toContain(new URL(database.url).password);

    const key = readFileSync(join(dataDir, 'dev-producer.key'), 'utf8').trim();
    expect(stdout).toContain(`producer key   ${key}  (app "dev"`);
    expect(stdout).toContain('sample event → HTTP 200 {"accepted":1,"duplicates":0}');

    const event = {
      eventId: randomUUID(), merchantId: 'm-local-stack', occurredAt: '2026-11-20T03:15:00Z',
      paymentCompleted: { paymentId: 'p-1', customerId: 'c-1', storeId: 's-1', method: 'PAYMENT_METHOD_CARD', amount: { currency: 'JPY', minorUnits: '1200' } },
    };
    const response = await fetch(`http://127.0.0.1:${ports.command}/payments.v1.PaymentEventService/RecordPaymentEvents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ events: [event] }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, duplicates: 0 });

    const { rows } = await withClient(database.url, (client) => client.query(
      `select merchant_id, payload->'paymentCompleted'->'amount'->>'minorUnits' as amount from event_store.events where event_id = $1`, [event.eventId]));
    expect(rows).toEqual([{ merchant_id: 'm-local-stack', amount: '1200' }]);

    expect(stdout).toContain(
      `gRPC           http://127.0.0.1:${ports.grpc}  (PaymentEventService over cleartext HTTP/2, h2c; a gRPC client's target is 127.0.0.1:${ports.grpc})`,
    );
    const client = paymentEventsGrpcClient(`127.0.0.1:${ports.grpc}`);
    try {
      expect((await recordOverGrpc(client, [{ ...event, eventId: randomUUID() }], { key })).response).toEqual({ accepted: 1, duplicates: 0 });
    } finally {
      client.close();
    }
  });

  it('prints the admin ports\' /metrics, which the API ports do not serve', async () => {
    expect(stdout).toContain(`command API    http://127.0.0.1:${ports.command}  (metrics: http://127.0.0.1:${ports.commandAdmin}/metrics)`);
    expect(stdout).toContain(`projector      http://127.0.0.1:${ports.projectorAdmin}/metrics`);
    expect(stdout).toContain(`(GraphQL; metrics: http://127.0.0.1:${ports.queryAdmin}/metrics)`);
    const known = {
      commandAdmin: /^events_accepted_total \d+$/m, projectorAdmin: /^projector_owned_partitions\{projection="merchant-metrics",version="3"\} 16$/m, queryAdmin: /^query_api_requests_total\{outcome="ok"\} \d+$/m,
    };
    for (const [name, metric] of Object.entries(known)) {
      const res = await fetch(`http://127.0.0.1:${ports[name as keyof typeof ports]}/metrics`);
      expect([name, res.status]).toEqual([name, 200]);
      expect(await res.text()).toMatch(metric);
    }
    for (const name of ['command', 'projector', 'query'] as const) expect([name, (await fetch(`http://127.0.0.1:${ports[name]}/metrics`)).status]).toEqual([name, 404]);
  });

  it('lets the ops CLI find the running stack without DATABASE_URL', async () => {
    const name = `found-${randomUUID().slice(0, 8)}`;
    const result = await ops(['apps', 'create', name], { DATABASE_URL: undefined, LOCAL_DATA_DIR: dataDir });
    expect(result.code).toBe(0);
    const { rows } = await withClient(database.url, (client) => client.query('select count(*)::int as n from access.producer_apps where name = $1', [name]));
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('prints a dashboard sign-in link for the sample merchant, and the ops CLI makes links to the same query API', async () => {
    const dashboard = `http://127.0.0.1:${ports.query}/dashboard`;
    expect(stdout).toContain(`dashboard      ${dashboard}  (merchants' web dashboard`);
    const link = stdout.split('\n').find((line) => line.startsWith(`${dashboard}#token=`));
    expect(link).toBeDefined();
    expect((await fetch(dashboard)).status).toBe(200);
    // The token in the link reads the sample merchant.
    const token = link!.slice(`${dashboard}#token=`.length);
    await eventually(async () => {
      const answer = await fetch(`http://127.0.0.1:${ports.query}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ merchantMetrics(merchantId: "m-1001", from: "2026-11-20T00:00:00Z", to: "2026-11-21T00:00:00Z", granularity: DAY) { totals { currency } } }' }),
      });
      expect(await answer.json()).toEqual({ data: { merchantMetrics: { totals: [{ currency: 'JPY' }] } } });
    }, 10_000, 200);
    const result = await ops(['tokens', 'merchant', 'm-1002', '--link'], { DATABASE_URL: undefined, LOCAL_DATA_DIR: dataDir, MERCHANT_JWT_SECRET: undefined, QUERY_API_URL: undefined });
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^${dashboard}#token=[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));
  });

  it('stops everything on Ctrl-C and removes its state file', async () => {
    expect(existsSync(join(dataDir, 'local-stack.json'))).toBe(true);
    process.kill(-stack.pid!, 'SIGINT');
    expect(await exit).toBe(0);
    expect(stdout).toContain('local stack stopped');
    expect(existsSync(join(dataDir, 'local-stack.json'))).toBe(false);
    for (const port of Object.values(ports)) expect(await portOpen(port), `port ${port}`).toBe(false);
  }, 60_000);
});

/**
 * `npm start` on a fresh machine: it starts its own PostgreSQL and nats-server, and every app reaches
 * them as a user of its own, with only that user's rights.
 */
describe('npm start on its own servers', () => {
  let dataDir: string;
  let stack: ChildProcess;
  let stdout = '';
  let exit: Promise<number | null>;
  const ports = { command: 0, projector: 0, query: 0, postgres: 0, nats: 0, commandAdmin: 0, projectorAdmin: 0, queryAdmin: 0, grpc: 0 };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-stack-own-'));
    // PostgreSQL runs as the postgres user when the tests run as root: it must reach the data directory.
    chmodSync(dataDir, 0o755);
    for (const name of Object.keys(ports) as Array<keyof typeof ports>) ports[name] = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LOCAL_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      COMMAND_API_PORT: String(ports.command),
      COMMAND_API_GRPC_PORT: String(ports.grpc),
      PROJECTOR_PORT: String(ports.projector),
      QUERY_API_PORT: String(ports.query),
      LOCAL_POSTGRES_PORT: String(ports.postgres),
      LOCAL_NATS_PORT: String(ports.nats),
      COMMAND_API_ADMIN_PORT: String(ports.commandAdmin),
      PROJECTOR_ADMIN_PORT: String(ports.projectorAdmin),
      QUERY_API_ADMIN_PORT: String(ports.queryAdmin),
    };
    delete env.DATABASE_URL;
    delete env.NATS_URL;
    stack = spawn(process.execPath, ['scripts/start.mjs'], { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    stack.stdout!.on('data', (chunk) => (stdout += chunk));
    stack.stderr!.on('data', (chunk) => (stdout += chunk));
    exit = new Promise((resolve) => stack.once('exit', (code) => resolve(code)));
    await eventually(() => expect(stdout).toContain('press Ctrl-C to stop'), 150_000, 200);
  }, 180_000);

  afterAll(async () => {
    if (stack?.exitCode === null && stack.pid) {
      process.kill(-stack.pid, 'SIGINT');
      await exit;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('gives each app its own database login, and none is a superuser', async () => {
    expect(stdout).toContain('embedded PostgreSQL running');
    expect(stdout).toContain('sample event → HTTP 200 {"accepted":1,"duplicates":0}');
    const { databaseUrl } = JSON.parse(readFileSync(join(dataDir, 'local-stack.json'), 'utf8')) as { databaseUrl: string };
    const { rows } = await withClient(databaseUrl, (client) => client.query(
      `select distinct a.application_name as app, a.usename as login, r.rolsuper as superuser
         from pg_stat_activity a join pg_roles r on r.rolname = a.usename
        where a.application_name in ('command-api', 'command-api-relay', 'projector', 'projector-control', 'query-api')
        order by 1`));
    expect(rows).toEqual([
      { app: 'command-api', login: 'payments_command_api', superuser: false },
      { app: 'command-api-relay', login: 'payments_command_api', superuser: false },
      { app: 'projector', login: 'payments_projector', superuser: false },
      { app: 'projector-control', login: 'payments_projector', superuser: false },
      { app: 'query-api', login: 'payments_query_api', superuser: false },
    ]);
  });

  it('runs nats-server with users only: an anonymous client is refused', async () => {
    const refused = await natsConnect({ servers: `nats://127.0.0.1:${ports.nats}`, timeout: 2000 }).then(
      async (nc) => { await nc.close(); return 'connected'; },
      (error: Error) => error.message,
    );
    expect(refused).toMatch(/authorization/i);
    expect(stdout).toContain('users command-api (publishes) and projector (consumes)');
  });
});
