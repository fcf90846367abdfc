/**
 * `npm run start:ha`: the replicated topology on one machine, on loopback —
 * a PostgreSQL primary and synchronous hot standby under Patroni (with etcd),
 * a 3-node NATS JetStream cluster (stream PAYMENTS with 3 replicas), two
 * instances of each app, and haproxy in front of the APIs and the database.
 * Its data lives in a temporary directory removed at Ctrl-C: it shows the
 * topology and lets one break it (kill a node, restart an instance), it does
 * not keep data between runs as `npm start` does.
 */
import { createProducerApp, dashboardLink, signMerchantToken } from '@app/access';
import { DEV_MERCHANT_JWT_SECRET, readInt, readString } from '@app/config';
import { createKysely, createPool } from '@app/database';
import { HaTopology, serverOwnedTempDir } from '@app/ha';
import { ensureBuilt } from './build.mjs';
import { describeExit, startApp, waitUntilReady } from './local-stack/apps.js';
import type { ManagedProcess } from './local-stack/managed-process.js';
import { assertPortFree } from './local-stack/ports.js';
import { submitSampleEvent } from './local-stack/sample-event.js';
import { graphqlCurl, restCurl, sampleQuery, SAMPLE_MERCHANT } from './local-stack/sample-query.js';
import { freePort } from '@app/ha';

const port = { min: 1, max: 65535 };
const env = process.env;
const ports = {
  commandApi: readInt(env, 'COMMAND_API_PORT', 4000, port),
  queryApi: readInt(env, 'QUERY_API_PORT', 4001, port),
  primary: readInt(env, 'HA_PRIMARY_PORT', 5440, port),
  replica: readInt(env, 'HA_REPLICA_PORT', 5441, port),
  stats: readInt(env, 'HA_STATS_PORT', 8404, port),
  commandApiInstances: [4010, 4011],
  queryApiInstances: [4020, 4021],
};
const merchantJwtSecret = readString(env, 'MERCHANT_JWT_SECRET', DEV_MERCHANT_JWT_SECRET);

const children: ManagedProcess[] = [];
let topology: HaTopology | undefined;
let finishing = false;

async function finish(code: number, message?: string): Promise<never> {
  if (!finishing) {
    finishing = true;
    if (message) console.error(`\nha stack: ${message}`);
    for (const child of [...children].reverse()) {
      if (child.running) console.log(`stopping ${child.name}…`);
      await child.stop();
    }
    console.log('stopping haproxy, NATS, Patroni and PostgreSQL…');
    await topology?.dispose().catch(() => undefined);
    console.log(code === 0 ? 'ha stack stopped' : 'ha stack stopped after an error');
    process.exit(code);
  }
  return new Promise<never>(() => undefined);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (finishing) return;
    console.log(`\n${signal} received: stopping the ha stack`);
    void finish(0);
  });
}
process.on('exit', () => children.forEach((child) => child.signalIfRunning()));

function track(child: ManagedProcess): ManagedProcess {
  children.push(child);
  void child.exited.then((exit) => {
    if (child.stopRequested || finishing) return;
    // An instance that dies is the operator's to restart; the topology goes on without it.
    console.error(`\nha stack: ${child.name} stopped (${describeExit(exit)}); the others go on. Its last output:\n${child.recentOutput()}`);
  });
  return child;
}

async function main(): Promise<void> {
  const fixed: [number, string, string][] = [
    [ports.commandApi, 'the command API load balancer', 'COMMAND_API_PORT'], [ports.queryApi, 'the query API load balancer', 'QUERY_API_PORT'],
    [ports.primary, "the database's primary port", 'HA_PRIMARY_PORT'], [ports.replica, "the database's read port", 'HA_REPLICA_PORT'],
    [ports.stats, "haproxy's statistics", 'HA_STATS_PORT'],
    ...ports.commandApiInstances.map((p, i): [number, string, string] => [p, `command API instance ${i + 1}`, '(fixed)']),
    ...ports.queryApiInstances.map((p, i): [number, string, string] => [p, `query API instance ${i + 1}`, '(fixed)']),
  ];
  for (const [p, what, setting] of fixed) await assertPortFree('127.0.0.1', p, what, setting);

  const dir = serverOwnedTempDir('payments-ha-');
  console.log(`starting etcd, Patroni (2 PostgreSQL nodes), 3 nats-servers and haproxy under ${dir}…`);
  topology = await HaTopology.create({ dir, ports });
  const started = performance.now();
  await topology.start();
  console.log(`topology ready in ${((performance.now() - started) / 1000).toFixed(1)} s; migrated ${topology.adminUrl().replace(/:[^:@/]*@/, ':***@')}`);

  const built = await ensureBuilt();
  if (built.built) console.log(`compiled the apps into dist/ (${built.files} files)`);
  const base = { ...process.env, HOST: '127.0.0.1', ADMIN_HOST: '127.0.0.1', MERCHANT_JWT_SECRET: merchantJwtSecret, COMMAND_API_GRPC_PORT: 'off' };
  const instance = async (name: string, entry: string, app: 'commandApi' | 'projector' | 'queryApi', portVariable: string, httpPort: number, adminVariable: string) => {
    const child = track(startApp({ name, entry, env: { ...base, ...topology!.appEnvironment(app), [portVariable]: String(httpPort), [adminVariable]: String(await freePort()) } }));
    await waitUntilReady(child, `http://127.0.0.1:${httpPort}/health/ready`);
  };
  for (const [i, p] of ports.commandApiInstances.entries()) {
    await instance(`command-api-${i + 1}`, 'apps/command-api/src/main.ts', 'commandApi', 'COMMAND_API_PORT', p, 'COMMAND_API_ADMIN_PORT');
  }
  for (let i = 0; i < 2; i++) await instance(`projector-${i + 1}`, 'apps/projector/src/main.ts', 'projector', 'PROJECTOR_PORT', await freePort(), 'PROJECTOR_ADMIN_PORT');
  for (const [i, p] of ports.queryApiInstances.entries()) {
    await instance(`query-api-${i + 1}`, 'apps/query-api/src/main.ts', 'queryApi', 'QUERY_API_PORT', p, 'QUERY_API_ADMIN_PORT');
  }

  const commandUrl = `http://127.0.0.1:${ports.commandApi}`;
  const queryUrl = `http://127.0.0.1:${ports.queryApi}`;
  const db = createKysely(createPool({ connectionString: topology.adminUrl(), max: 1, applicationName: 'ha-stack' }));
  const { key } = await createProducerApp(db, 'ha-demo').finally(() => db.destroy());
  const sample = await submitSampleEvent(commandUrl, key).catch((error: Error) => ({ status: 0, body: error.message }));
  const token = await signMerchantToken(merchantJwtSecret, { kind: 'merchant', merchantId: SAMPLE_MERCHANT }, { ttlSeconds: 7 * 86_400 });
  const answer = await sampleQuery(queryUrl, token).catch((error: Error) => error.message);
  const analyst = topology.loginUrl('analyst');
  const nodes = topology.postgres.nodes.map((n) => `${n.name} :${n.pgPort} (Patroni ${n.restUrl})`).join(', ');
  console.log([
    '', 'ha stack ready (every instance behind haproxy; kill one and watch the others go on)',
    `  command API    ${commandUrl}  → instances :${ports.commandApiInstances.join(', :')}`,
    `  query API      ${queryUrl}/graphql  → instances :${ports.queryApiInstances.join(', :')} (dashboard: ${dashboardLink(queryUrl, token)})`,
    `  PostgreSQL     primary port :${ports.primary} (command API, projectors), read port :${ports.replica} (query API, analysts: the standby, or the primary when none is up)`,
    `                 nodes ${nodes}; synchronous replication, falling back to asynchronous while no standby is up`,
    `  NATS           ${topology.nats.map((s) => s.url).join(', ')}  (stream PAYMENTS, 3 replicas)`,
    `  haproxy        http://127.0.0.1:${ports.stats}/stats`,
    '', `sample event through the load balancer → HTTP ${sample.status} ${sample.body}`,
    `merchant ${SAMPLE_MERCHANT}'s day from the standby → ${answer}`,
    '', 'producer key (app "ha-demo"):', key,
    '', 'ask GraphQL yourself:', graphqlCurl(queryUrl, token), '', 'or REST:', restCurl(queryUrl, token),
    '', 'an analyst on the standby (psql from postgresql-client):', `  psql '${analyst}'`,
    '', `every node, role and lag: npm run ops -- cluster status --database '${topology.adminUrl()}' --nats ${topology.nats.map((s) => s.url).join(',')} --patroni ${topology.postgres.nodes.map((n) => n.restUrl).join(',')} --haproxy http://127.0.0.1:${ports.stats}/stats`,
    '', 'press Ctrl-C to stop (the data goes with it)', '',
  ].join('\n'));
}

main().catch((error: unknown) => finish(1, error instanceof Error ? error.message : String(error)));
