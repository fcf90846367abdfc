/**
 * `npm start`: the whole system on one machine. Starts an embedded PostgreSQL
 * and a nats-server (unless DATABASE_URL / NATS_URL point elsewhere), migrates,
 * starts the apps, proves ingest works with one sample event, and on Ctrl-C
 * stops apps first, then NATS, then PostgreSQL, so nothing in flight is lost.
 */
import { dashboardLink } from '@app/access';
import { readInt, readString, readUrl, readUrlList, redactUrl } from '@app/config';
import { randomBytes } from 'node:crypto';
import { createKysely, createPool, ensureMemberLogin, migrateToLatest } from '@app/database';
import { ensureBuilt } from './build.mjs';
import { describeExit, startApp, waitUntilReady } from './local-stack/apps.js';
import { dataDir, keptSecret, removeState, writeState, type DataDir } from './local-stack/data-dir.js';
import { DEV_APP_NAME, ensureDevProducerKey } from './local-stack/dev-key.js';
import type { ManagedProcess } from './local-stack/managed-process.js';
import { startLocalNats } from './local-stack/nats.js';
import { assertPortFree } from './local-stack/ports.js';
import { startLocalPostgres } from './local-stack/postgres.js';
import { curlCommand, submitSampleEvent } from './local-stack/sample-event.js';
import { graphqlCurl, merchantToken, restCurl, sampleQuery, SAMPLE_MERCHANT } from './local-stack/sample-query.js';
import { DEV_MERCHANT_JWT_SECRET } from '@app/config';

interface StackConfig {
  databaseUrl?: string;
  natsUrl?: string;
  postgresPort: number;
  natsPort: number;
  host: string;
  commandApiPort: number;
  /** The command API's gRPC port (HTTP/2), on HOST; undefined with COMMAND_API_GRPC_PORT=off. */
  commandApiGrpcPort?: number;
  projectorPort: number;
  queryApiPort: number;
  /** The apps' admin ports (/metrics, /health/details), on ADMIN_HOST: loopback unless it says otherwise. */
  adminHost: string;
  commandApiAdminPort: number;
  projectorAdminPort: number;
  queryApiAdminPort: number;
  merchantJwtSecret: string;
}

function loadConfig(env: NodeJS.ProcessEnv): StackConfig {
  const port = { min: 1, max: 65535 };
  return {
    databaseUrl: env.DATABASE_URL ? readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']) : undefined,
    natsUrl: env.NATS_URL ? readUrlList(env, 'NATS_URL', ['nats:', 'tls:']) : undefined,
    postgresPort: readInt(env, 'LOCAL_POSTGRES_PORT', 54329, port),
    natsPort: readInt(env, 'LOCAL_NATS_PORT', 4222, port),
    host: readString(env, 'HOST', '127.0.0.1'),
    commandApiPort: readInt(env, 'COMMAND_API_PORT', 4000, port),
    commandApiGrpcPort: env.COMMAND_API_GRPC_PORT?.trim().toLowerCase() === 'off' ? undefined : readInt(env, 'COMMAND_API_GRPC_PORT', 4003, port),
    projectorPort: readInt(env, 'PROJECTOR_PORT', 4002, port),
    queryApiPort: readInt(env, 'QUERY_API_PORT', 4001, port),
    adminHost: readString(env, 'ADMIN_HOST', '127.0.0.1'),
    commandApiAdminPort: readInt(env, 'COMMAND_API_ADMIN_PORT', 9400, port),
    projectorAdminPort: readInt(env, 'PROJECTOR_ADMIN_PORT', 9402, port),
    queryApiAdminPort: readInt(env, 'QUERY_API_ADMIN_PORT', 9401, port),
    merchantJwtSecret: readString(env, 'MERCHANT_JWT_SECRET', DEV_MERCHANT_JWT_SECRET),
  };
}

/** Children in start order; they are stopped in reverse. */
const children: ManagedProcess[] = [];
/** Set once this process wrote the state file: a second `npm start` that fails must not remove the first one's. */
let stateWritten: DataDir | undefined;
let stopping: Promise<void> | undefined;
let finishing = false;

function stopAll(): Promise<void> {
  stopping ??= (async () => {
    for (const child of [...children].reverse()) {
      if (child.running) console.log(`stopping ${child.name}…`);
      await child.stop();
    }
    if (stateWritten) removeState(stateWritten);
  })();
  return stopping;
}

/** Reports the first reason to stop (later ones are consequences of it), stops everything, exits. */
async function finish(code: number, message?: string): Promise<never> {
  if (!finishing) {
    finishing = true;
    if (message) console.error(`\nlocal stack: ${message}`);
    await stopAll();
    console.log(code === 0 ? 'local stack stopped' : 'local stack stopped after an error');
    process.exit(code);
  }
  return new Promise<never>(() => undefined);
}

function track(child: ManagedProcess): void {
  children.push(child);
  if (stopping) void child.stop();
  void child.exited.then((exit) => {
    if (child.stopRequested) return;
    const output = child.recentOutput();
    void finish(1, `${child.name} stopped unexpectedly (${describeExit(exit)}); stopping everything${output ? `. Its last output:\n${output}` : ''}`);
  });
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    // A terminal's Ctrl-C also reaches npm and the launcher, which pass it on: one request, several deliveries.
    if (finishing) return;
    console.log(`\n${signal} received: stopping the local stack`);
    void finish(0);
  });
}
// If this process dies some other way, children must not outlive it.
process.on('exit', () => children.forEach((child) => child.signalIfRunning()));

function httpUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

async function prepareDatabase(databaseUrl: string, dir: DataDir): Promise<string | undefined> {
  const db = createKysely(createPool({ connectionString: databaseUrl, max: 2, applicationName: 'local-stack' }));
  try {
    const applied = await migrateToLatest(db);
    console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
    return await ensureDevProducerKey(db, dir);
  } catch (error) {
    throw new Error(`cannot prepare the database at ${redactUrl(databaseUrl)}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await db.destroy();
  }
}

/**
 * In its own PostgreSQL the stack gives each app a login of its own, a member of one group role
 * that the migrations made, with nothing more: the command API may append events, the projector
 * read them and write the read models, the query API read the read models.
 */
const APP_LOGINS = {
  commandApi: { role: 'payments_command_api', memberOf: 'payments_writer' },
  projector: { role: 'payments_projector', memberOf: 'projection_writer' },
  queryApi: { role: 'payments_query_api', memberOf: 'read_model_reader' },
} as const;

/** An app's login in the stack's own PostgreSQL; its password is kept beside the superuser's. */
async function appLogin(adminUrl: string, passwordFile: string, login: { role: string; memberOf: string }): Promise<string> {
  const password = keptSecret(passwordFile, () => randomBytes(18).toString('hex'));
  return ensureMemberLogin(adminUrl, { ...login, password });
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const dir = dataDir();

  // Check every port before starting anything, so a clash leaves nothing half-started.
  if (!config.databaseUrl) await assertPortFree('127.0.0.1', config.postgresPort, 'the embedded PostgreSQL', 'LOCAL_POSTGRES_PORT');
  if (!config.natsUrl) await assertPortFree('127.0.0.1', config.natsPort, 'nats-server', 'LOCAL_NATS_PORT');
  await assertPortFree(config.host, config.commandApiPort, 'the command API', 'COMMAND_API_PORT');
  if (config.commandApiGrpcPort !== undefined) {
    await assertPortFree(config.host, config.commandApiGrpcPort, "the command API's gRPC port", 'COMMAND_API_GRPC_PORT');
  }
  await assertPortFree(config.host, config.projectorPort, 'the projector', 'PROJECTOR_PORT');
  await assertPortFree(config.host, config.queryApiPort, 'the query API', 'QUERY_API_PORT');
  await assertPortFree(config.adminHost, config.commandApiAdminPort, "the command API's admin port", 'COMMAND_API_ADMIN_PORT');
  await assertPortFree(config.adminHost, config.projectorAdminPort, "the projector's admin port", 'PROJECTOR_ADMIN_PORT');
  await assertPortFree(config.adminHost, config.queryApiAdminPort, "the query API's admin port", 'QUERY_API_ADMIN_PORT');

  let databaseUrl = config.databaseUrl;
  if (databaseUrl) {
    console.log(`using PostgreSQL at ${redactUrl(databaseUrl)} (DATABASE_URL)`);
  } else {
    const postgres = await startLocalPostgres(dir, config.postgresPort, track);
    databaseUrl = postgres.url;
    console.log(`embedded PostgreSQL running at ${redactUrl(databaseUrl)}`);
  }
  if (stopping) return;

  // A NATS_URL given by the user is used as it is, by both apps; the stack's own nats-server has a user per app.
  let natsUrl = config.natsUrl;
  let appNatsUrl = { commandApi: natsUrl, projector: natsUrl };
  if (natsUrl) {
    console.log(`using NATS at ${redactUrl(natsUrl)} (NATS_URL)`);
  } else {
    const nats = await startLocalNats(dir, config.natsPort, track);
    natsUrl = nats.url;
    appNatsUrl = { commandApi: nats.commandApiUrl, projector: nats.projectorUrl };
    console.log(`nats-server (JetStream) running at ${natsUrl}`);
  }
  if (stopping) return;

  const devKey = await prepareDatabase(databaseUrl, dir);
  // A DATABASE_URL given by the user is used as it is, for every app.
  const own = !config.databaseUrl;
  const appDatabaseUrl = {
    commandApi: own ? await appLogin(databaseUrl, dir.commandApiPassword, APP_LOGINS.commandApi) : databaseUrl,
    projector: own ? await appLogin(databaseUrl, dir.projectorPassword, APP_LOGINS.projector) : databaseUrl,
    queryApi: own ? await appLogin(databaseUrl, dir.queryApiPassword, APP_LOGINS.queryApi) : databaseUrl,
  };
  const commandApiUrl = httpUrl(config.host, config.commandApiPort);
  const queryApiUrl = httpUrl(config.host, config.queryApiPort);
  writeState(dir, { databaseUrl, natsUrl, commandApiUrl, queryApiUrl, merchantJwtSecret: config.merchantJwtSecret, pid: process.pid });
  stateWritten = dir;
  if (stopping) return;

  const env = {
    ...process.env, DATABASE_URL: databaseUrl, NATS_URL: natsUrl, HOST: config.host,
    COMMAND_API_PORT: String(config.commandApiPort), PROJECTOR_PORT: String(config.projectorPort),
    COMMAND_API_GRPC_PORT: config.commandApiGrpcPort === undefined ? 'off' : String(config.commandApiGrpcPort),
    QUERY_API_PORT: String(config.queryApiPort), MERCHANT_JWT_SECRET: config.merchantJwtSecret, ADMIN_HOST: config.adminHost,
    COMMAND_API_ADMIN_PORT: String(config.commandApiAdminPort), PROJECTOR_ADMIN_PORT: String(config.projectorAdminPort),
    QUERY_API_ADMIN_PORT: String(config.queryApiAdminPort),
  };
  // The apps run compiled, as the image runs them: built here when a source changed (a fraction of a second).
  const built = await ensureBuilt();
  if (built.built) console.log(`compiled the apps into dist/ (${built.files} files, ${Math.round(built.ms)} ms)`);
  const commandApi = startApp({ name: 'command-api', entry: 'apps/command-api/src/main.ts', env: { ...env, DATABASE_URL: appDatabaseUrl.commandApi, NATS_URL: appNatsUrl.commandApi! } });
  track(commandApi);
  const projectorUrl = httpUrl(config.host, config.projectorPort);
  const projector = startApp({ name: 'projector', entry: 'apps/projector/src/main.ts', env: { ...env, DATABASE_URL: appDatabaseUrl.projector, NATS_URL: appNatsUrl.projector! } });
  track(projector);
  await waitUntilReady(commandApi, `${commandApiUrl}/health/ready`);
  await waitUntilReady(projector, `${projectorUrl}/health/ready`);
  if (stopping) return;
  const queryApi = startApp({ name: 'query-api', entry: 'apps/query-api/src/main.ts', env: { ...env, DATABASE_URL: appDatabaseUrl.queryApi } });
  track(queryApi);
  // Ready once a read-model version is live: the projector makes v1 live when it has caught up.
  await waitUntilReady(queryApi, `${queryApiUrl}/health/ready`);
  if (stopping) return;

  const adminUrl = (port: number) => httpUrl(config.adminHost, port);
  const lines = ['', 'local stack ready', `  command API    ${commandApiUrl}  (metrics: ${adminUrl(config.commandApiAdminPort)}/metrics)`];
  if (config.commandApiGrpcPort !== undefined) {
    // The command API serves TLS when it is given both files (it reads the same environment).
    const tls = Boolean(process.env.COMMAND_API_GRPC_TLS_CERT && process.env.COMMAND_API_GRPC_TLS_KEY);
    const grpcUrl = httpUrl(config.host, config.commandApiGrpcPort).replace(/^http:/, tls ? 'https:' : 'http:');
    lines.push(`  gRPC           ${grpcUrl}  (PaymentEventService over ${tls ? 'TLS' : 'cleartext HTTP/2, h2c'}; a gRPC client's target is ${new URL(grpcUrl).host})`);
  }
  lines.push(`  projector      ${adminUrl(config.projectorAdminPort)}/metrics  (lag per partition; /health/details there too)`);
  lines.push(`  query API      ${queryApiUrl}/graphql  (GraphQL; metrics: ${adminUrl(config.queryApiAdminPort)}/metrics)`);
  lines.push(`  dashboard      ${queryApiUrl}/dashboard  (merchants' web dashboard; sign in with a merchant token)`);
  lines.push(`  PostgreSQL     ${redactUrl(databaseUrl)}${config.databaseUrl ? '' : `  (data: ${dir.postgres})`}`);
  if (!config.databaseUrl) {
    lines.push(`                 each app logs in as its own role: ${Object.values(APP_LOGINS).map((l) => `${l.role} (${l.memberOf})`).join(', ')}`);
  }
  lines.push(`  NATS           ${redactUrl(natsUrl)}${config.natsUrl ? '' : `  (JetStream data: ${dir.nats})`}`);
  if (!config.natsUrl) lines.push('                 users command-api (publishes) and projector (consumes), no anonymous clients: deploy/nats-server.conf');
  if (devKey) {
    const sample = await submitSampleEvent(commandApiUrl, devKey).catch((error: Error) => ({ status: 0, body: error.message }));
    lines.push(`  producer key   ${devKey}  (app "${DEV_APP_NAME}", kept in ${dir.devProducerKey})`);
    lines.push('', `sample event → HTTP ${sample.status} ${sample.body}`);
    if (sample.status !== 200) lines.push('  (the sample event was not accepted: see the command-api output above)');
    lines.push('', 'record an event yourself:', curlCommand(commandApiUrl, devKey));
    const token = await merchantToken(config.merchantJwtSecret);
    const answer = await sampleQuery(queryApiUrl, token).catch((error: Error) => error.message);
    lines.push('', `merchant ${SAMPLE_MERCHANT}'s 2026-11-20 (Asia/Tokyo) from GraphQL → ${answer}`);
    lines.push(
      '',
      `merchant token for ${SAMPLE_MERCHANT} (7 days; JWT secret ${config.merchantJwtSecret === DEV_MERCHANT_JWT_SECRET ? `"${DEV_MERCHANT_JWT_SECRET}", the development default` : 'from MERCHANT_JWT_SECRET'}):`,
      token,
      '',
      'ask GraphQL yourself:',
      graphqlCurl(queryApiUrl, token),
      '',
      `or REST (its OpenAPI document: ${queryApiUrl}/v1/openapi.json):`,
      restCurl(queryApiUrl, token),
      '',
      `open ${SAMPLE_MERCHANT}'s dashboard (the token rides in the fragment, which the browser never sends):`,
      dashboardLink(queryApiUrl, token),
      '(another merchant: npm run ops -- tokens merchant <merchantId> [--link])',
    );
  } else {
    lines.push(
      '',
      `the database already has a producer app "${DEV_APP_NAME}" with a different key (or it was revoked), so no sample event was sent.`,
      'create a key with: npm run ops -- apps create my-app',
    );
  }
  lines.push('', 'ops CLI: npm run ops -- help', 'press Ctrl-C to stop', '');
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => finish(1, error instanceof Error ? error.message : String(error)));
