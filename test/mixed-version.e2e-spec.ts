import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducerApp } from '@app/access';
import { createKysely, createPool } from '@app/database';
import type { PaymentEventJson } from '@app/projections';
import { eventually, NatsServerProcess, testDatabase, type TestDatabase } from '@app/testing';
import { migrations } from '../migrations/index.js';
import { asStoredTotals, expectedTotals, generateEvents, readModelTotals } from '../libs/merchant-metrics/src/testing/index.js';
import { AppProcess, COMMAND_API, PROJECTOR } from './support/app-process.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const PATH = '/payments.v1.PaymentEventService/RecordPaymentEvents';
const SCHEMA = 'rm_merchant_metrics_v1';
const window = { from: new Date('2026-09-01T00:00:00Z'), to: new Date('2026-11-20T00:00:00Z') };
/** Written into a built tree last: a tree without it is a partial extraction or build, removed and made again. */
const BUILT_MARKER = '.mixed-version-built';

const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** The latest migration (names sort in the order they apply), and the last commit whose tree did not have it. */
function previousRelease(): { migration: string; sha: string } {
  const migration = Object.keys(migrations).sort().at(-1)!;
  const file = `migrations/${migration}.ts`;
  expect(existsSync(join(repo, file)), `${file} (the last name of migrations/index.ts)`).toBe(true);
  let shallow: string;
  try {
    shallow = git('rev-parse', '--is-shallow-repository');
  } catch (error) {
    throw new Error(`the mixed-version test needs the repository's git history, and git failed here: ${(error as Error).message}`);
  }
  if (shallow !== 'false') {
    throw new Error('the mixed-version test needs the git history of the latest migration, and this clone is shallow: run `git fetch --unshallow`');
  }
  const added = git('log', '-1', '--format=%H', '--diff-filter=A', '--', file);
  // Not committed yet: the last commit is the previous release.
  const sha = added ? git('rev-parse', `${added}^`) : git('rev-parse', 'HEAD');
  const known = (() => {
    try {
      git('cat-file', '-e', `${sha}:${file}`);
      return true;
    } catch {
      return false;
    }
  })();
  expect(known, `${sha} must predate ${file}`).toBe(false);
  return { migration, sha };
}

/**
 * That commit's apps, libraries and migrations under <repo>/.mixed-version/<sha> (so that Node
 * finds the repository's node_modules by walking up), compiled by its own scripts/build.mjs;
 * reused when a build of it is complete.
 */
function buildRelease(sha: string): { root: string; reused: boolean; ms: number } {
  const started = performance.now();
  const root = join(repo, '.mixed-version', sha);
  const entry = join(root, 'dist', COMMAND_API.entry.replace(/\.ts$/, '.js'));
  if (existsSync(join(root, BUILT_MARKER)) && existsSync(entry)) return { root, reused: true, ms: performance.now() - started };
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const archive = join(repo, '.mixed-version', `${sha}.tar`);
  try {
    git('archive', '--format=tar', `--output=${archive}`, sha, 'apps', 'libs', 'migrations', 'scripts', 'tsconfig.json', 'package.json');
    execFileSync('tar', ['-x', '-f', archive, '-C', root], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--force'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    if (!existsSync(entry)) throw new Error(`the build of ${sha} made no ${entry}`);
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer | string }).stderr?.toString() ?? '';
    throw new Error(`could not extract and build ${sha}: ${(error as Error).message}\n${stderr}`);
  } finally {
    rmSync(archive, { force: true });
  }
  writeFileSync(join(root, BUILT_MARKER), `${sha}\n`);
  return { root, reused: false, ms: performance.now() - started };
}

describe('mixed versions: the previous release\'s command API against the latest schema', () => {
  let database: TestDatabase;
  let nats: NatsServerProcess;
  let pool: pg.Pool;
  let key: string;
  let oldApi: AppProcess;
  let projector: AppProcess;

  beforeAll(async () => {
    database = await testDatabase();
    nats = await NatsServerProcess.start();
    pool = createPool({ connectionString: database.url, max: 4 });
    ({ key } = await createProducerApp(createKysely(pool), 'mixed-version'));
  });
  afterAll(async () => {
    await oldApi?.stop();
    await projector?.stop();
    await nats?.dispose();
    await pool?.end();
    await database?.drop();
  });

  const send = async (events: readonly PaymentEventJson[]) => {
    const res = await fetch(`${oldApi.url}${PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ events }),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  it('stores every event once, publishes it, and the current projector counts it exactly; repeats are duplicates', async () => {
    // In the test, not in a hook: without the history it must fail, not be reported as skipped.
    const release = previousRelease();
    const built = buildRelease(release.sha);
    oldApi = await AppProcess.start(COMMAND_API, { DATABASE_URL: database.url, NATS_URL: nats.url }, { root: built.root });
    projector = await AppProcess.start(PROJECTOR, {
      DATABASE_URL: database.url, NATS_URL: nats.url, PROJECTOR_PROJECTIONS: 'merchant-metrics', PROJECTOR_VERSIONS: 'merchant-metrics=1',
    });
    // The old code runs from its own tree against a database at the latest migration.
    expect(readFileSync(join(built.root, 'migrations', 'index.ts'), 'utf8')).not.toContain(release.migration);
    const { rows: applied } = await pool.query<{ name: string }>(`select name from kysely_migration order by name desc limit 1`);
    expect(applied[0]?.name).toBe(release.migration);

    const events = generateEvents({ seed: 71, count: 4000, merchants: 60, merchantPrefix: 'mv-', ...window });
    const batches = Array.from({ length: events.length / 100 }, (_, i) => events.slice(i * 100, (i + 1) * 100));
    const started = performance.now();
    // Four producers over disjoint batches; nothing fails here, so every answer must be a full acceptance.
    const answers: unknown[] = [];
    await Promise.all(Array.from({ length: 4 }, async (_, p) => {
      for (let k = p; k < batches.length; k += 4) answers[k] = await send(batches[k]!);
    }));
    expect(answers).toEqual(batches.map(() => ({ status: 200, body: { accepted: 100, duplicates: 0 } })));

    const ids = events.map((e) => e.eventId);
    const { rows } = await pool.query<{ n: number; distinct: number }>(
      `select count(*)::int as n, count(distinct event_id)::int as distinct from event_store.events where event_id = any($1::uuid[])`, [ids]);
    expect(rows[0]).toEqual({ n: 4000, distinct: 4000 });
    expect(Number((await pool.query(`select count(*) n from event_store.events`)).rows[0].n)).toBe(4000);

    // A repeat of acknowledged batches: duplicates, nothing stored again; an id reused with another body: refused.
    for (const k of [0, 17, 39]) expect(await send(batches[k]!)).toEqual({ status: 200, body: { accepted: 0, duplicates: 100 } });
    const first = events.find((e) => e.paymentCompleted)!;
    const changed = { ...first, paymentCompleted: { ...first.paymentCompleted!, amount: { ...first.paymentCompleted!.amount, minorUnits: String(BigInt(first.paymentCompleted!.amount.minorUnits) + 1n) } } };
    expect(await send([changed])).toEqual({ status: 409, body: { code: 'already_exists', message: `event id ${first.eventId} already stored with a different body` } });
    expect(Number((await pool.query(`select count(*) n from event_store.events`)).rows[0].n)).toBe(4000);

    // The old relay publishes everything, and the current projector's read model is exactly the events sent.
    await eventually(async () => {
      const { rows: lag } = await pool.query<{ n: string }>(
        `select coalesce(sum(h.head - p.published), 0) as n from event_store.partition_heads h join event_store.publication_heads p using (partition)`);
      expect(Number(lag[0]!.n)).toBe(0);
    }, 30_000, 200);
    const expected = asStoredTotals(expectedTotals(events));
    await eventually(async () => expect(await readModelTotals(pool, SCHEMA, 'mv-')).toEqual(expected), 60_000, 500);
    const visibleMs = performance.now() - started;
    // Nothing went wrong that its answers would not show: no warning or error in the old API's log.
    expect(oldApi.output.split('\n').filter((line) => /"level":"(warn|error|fatal)"/.test(line))).toEqual([]);

    console.log(
      `old command API ${release.sha.slice(0, 12)} (the last commit before migration ${release.migration}; ${built.reused ? 'reused build' : `extracted and built in ${built.ms.toFixed(0)} ms`}) ` +
        `against the latest schema: ${events.length} events acknowledged in ${batches.length} requests, ${rows[0]!.n} stored once, ` +
        `3 repeated batches answered as 300 duplicates, ${expected.size} merchant/currency totals in ${SCHEMA} exact ${visibleMs.toFixed(0)} ms after the first request`,
    );
  }, 180_000);
});
