import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKysely, createPool, type Database } from '@app/database';
import { EventStore, readPartitionCount } from '@app/event-store';
import { PROJECTION_NAME, merchantMetricsProjection } from '@app/merchant-metrics';
import { goLiveIfFirst, installVersion } from '@app/projections';
import { eventually, testDatabase, type TestDatabase } from '@app/testing';
import { sampleEvent } from '../../../libs/event-store/src/testing/sample-events.js';
import { OpsError, resolveCommand, UsageError, type OpsContext } from './cli.js';
import { projectionsCommands } from './projections.command.js';
import { awaitCatchUp } from './projections-rebuild.command.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The real CLI in a child process, for what only it does: exit codes and the one-line error. */
function cli(args: string[], databaseUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/run-ts.mjs', 'apps/ops/src/main.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('ops projections', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let db: Kysely<Database>;
  let lines: string[];

  /** Runs a command as main.ts does, minus the process: returns what it printed, or throws what it threw. */
  const ops = async (...argv: string[]): Promise<string[]> => {
    lines = [];
    const context: OpsContext = { db: async () => db, databaseUrl: () => database.url, out: (line) => lines.push(line) };
    const { command, args, options } = resolveCommand([projectionsCommands], ['projections', ...argv]);
    await command.run(context, args, options);
    return lines;
  };

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
    db = createKysely(createPool({ connectionString: database.url, max: 2 }));
  });
  afterAll(async () => {
    await db?.destroy();
    await pool?.end();
    await database?.drop();
  });

  it('list says so when there is no version yet', async () => {
    expect(await ops('list')).toEqual(['no projection versions yet (the projector installs its version when it first starts)']);
  });

  it('list shows every version with status, live marker, progress and lag', async () => {
    const partitions = await readPartitionCount(pool);
    const client = await pool.connect();
    try {
      for (const version of [1, 2]) {
        await installVersion(client, merchantMetricsProjection, { version, partitions, codeRevision: `rev-${version}`, engine: 'postgres' });
      }
      await goLiveIfFirst(client, PROJECTION_NAME, 1);
    } finally {
      client.release();
    }
    // One merchant, so one partition: positions 1 to 3. v1 has applied the first two, v2 none.
    await new EventStore(pool, partitions).append([1, 2, 3].map(() => sampleEvent({ merchantId: 'm-ops' })));
    const moved = await pool.query(
      `update projections.checkpoints c set position = 2, events = 2 from event_store.partition_heads h
       where c.projection = $1 and c.version = 1 and c.partition = h.partition and h.head = 3`,
      [PROJECTION_NAME],
    );
    expect(moved.rowCount).toBe(1);

    const [header, v1, v2, ...rest] = await ops('list');
    expect(header).toMatch(/^PROJECTION\s+VERSION\s+STATUS\s+LIVE\s+ENGINE\s+EVENTS\s+PROGRESS\s+LAG_EVENTS\s+LAG_S\s+REVISION\s+STARTED\s+FINISHED$/);
    const at = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ';
    // 2 of 3 stored events is 66.67%, shown rounded down.
    expect(v1).toMatch(new RegExp(`^merchant-metrics\\s+1\\s+live\\s+\\*\\s+postgres\\s+2\\s+66\\.6%\\s+1\\s+\\d+\\.\\d\\s+rev-1\\s+${at}\\s+${at}$`));
    expect(v2).toMatch(new RegExp(`^merchant-metrics\\s+2\\s+building\\s+postgres\\s+0\\s+0\\.0%\\s+3\\s+\\d+\\.\\d\\s+rev-2\\s+${at}\\s+-$`));
    expect(rest).toEqual([]);
  });

  it('refuses wrong command lines and unknown projections', async () => {
    await expect(ops('promote', 'merchant-metrics')).rejects.toThrow(UsageError);
    await expect(ops('promote', 'merchant-metrics')).rejects.toThrow(/--version is required/);
    await expect(ops('drop', 'merchant-metrics', '--version', 'two')).rejects.toThrow(/--version must be a positive integer, got "two"/);
    await expect(ops('promote', 'merchant-metrics', '--version', '2', '--max-lag', 'soon')).rejects.toThrow(UsageError);
    await expect(ops('promote', 'orders', '--version', '2')).rejects.toThrow(OpsError);
    await expect(ops('promote', 'orders', '--version', '2')).rejects.toThrow('unknown projection "orders" (known: merchant-metrics, merchant-payments)');
  });

  it('promote refuses a lagging version, then promotes; rollback returns', async () => {
    await expect(ops('promote', 'merchant-metrics', '--version', '2', '--max-lag', '0'))
      .rejects.toThrow(/^merchant-metrics v2 has not caught up: 3 events in 1 partitions not applied yet, the oldest \d+\.\d s old \(limit 0 s\)/);
    expect(await ops('promote', 'merchant-metrics', '--version', '2', '--max-lag', '600')).toEqual([
      'merchant-metrics v2 is live (was v1, kept for rollback); the analytics views switched with it',
    ]);
    const { rows } = await pool.query<{ definition: string }>(`select pg_get_viewdef('analytics.merchant_metrics_daily') as definition`);
    expect(rows[0]!.definition).toContain('rm_merchant_metrics_v2.metrics_daily');
    expect(await ops('rollback', 'merchant-metrics', '--max-lag', '600')).toEqual([
      'merchant-metrics v1 is live again (rolled back from v2); the analytics views switched with it',
    ]);
    expect((await ops('list')).filter((line) => /\s\*\s/.test(line))).toEqual([expect.stringMatching(/^merchant-metrics\s+1\s+live\s+\*/)]);
  });

  it('drop refuses the live version, and drops a retired one, naming projectors it cuts off', async () => {
    await expect(ops('drop', 'merchant-metrics', '--version', '1')).rejects.toThrow('merchant-metrics v1 is live; promote another version or roll back first');
    await pool.query(
      `insert into projections.leases (projection, version, partition, owner, expires_at) values ($1, 2, 0, 'projector-a', now() + interval '1 minute')`,
      [PROJECTION_NAME],
    );
    expect(await ops('drop', 'merchant-metrics', '--version', '2')).toEqual([
      'dropped merchant-metrics v2: schema rm_merchant_metrics_v2, its checkpoints, members and leases',
      'note: projector(s) projector-a still held leases on v2; stop them, their writes now fail',
    ]);
    const { rows } = await pool.query(`select count(*)::int as n from pg_namespace where nspname = 'rm_merchant_metrics_v2'`);
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('as a process: exit 1 with one line for a refusal, exit 2 for a wrong command line', async () => {
    const [refused, wrong] = await Promise.all([
      cli(['projections', 'drop', 'merchant-metrics', '--version', '1'], database.url),
      cli(['projections', 'promote', 'merchant-metrics'], database.url),
    ]);
    expect(refused).toMatchObject({ code: 1, stdout: '', stderr: 'ops: merchant-metrics v1 is live; promote another version or roll back first\n' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^ops: --version is required: projections promote PROJECTION --version N\n/);
    expect(wrong.stderr).toContain('projections rollback PROJECTION [--max-lag SECONDS]');
  });
  describe('rebuild, then the wait for the projectors', () => {
    const next = 'check with `projections list`, compare with `projections diff`, then `projections promote merchant-metrics --version 2`';
    const recorder = () => {
      const written: string[] = [];
      return { written, stream: { isTTY: false, write: (text: string) => written.push(text) } };
    };
    const context = (): OpsContext => {
      lines = [];
      return { db: async () => db, databaseUrl: () => database.url, out: (line) => lines.push(line) };
    };
    /** What a projector following v2 does, as far as the wait can see: its checkpoints reach the heads. */
    const applyEverything = () => pool.query(
      `update projections.checkpoints c set position = h.head, events = c.events + (h.head - c.position)
       from event_store.partition_heads h where c.projection = $1 and c.version = 2 and c.partition = h.partition and c.position < h.head`,
      [PROJECTION_NAME],
    );
    const heartbeat = (version: number, owner: string) => pool.query(
      `insert into projections.members (projection, version, owner, expires_at) values ($1, $2, $3, now() + interval '1 minute')`,
      [PROJECTION_NAME, version, owner],
    );

    it('builds the version and finds it caught up at once when nothing arrived meanwhile', async () => {
      const [building, built, ...rest] = await ops('rebuild', 'merchant-metrics', '--version', '2');
      expect(building).toBe('building merchant-metrics v2 from position zero');
      expect(built).toMatch(/^v2 built: 3 events in \d+\.\d s \([\d,]+ events\/s\); status catching_up$/);
      expect(rest).toEqual([`v2 has caught up (0 events behind in 0 partitions, lag 0.0 s; promote needs under 5 s): ${next}`]);
      expect((await ops('list')).find((line) => /^merchant-metrics\s+2\s/.test(line)))
        .toMatch(/^merchant-metrics\s+2\s+catching_up\s+postgres\s+3\s+100\.0%\s+0\s+0\.0\s/);
    });

    it('rerun on a built version, only waits; with no projector running it says so and returns', async () => {
      await new EventStore(pool, await readPartitionCount(pool)).append([1, 2].map(() => sampleEvent({ merchantId: 'm-ops' })));
      expect(await ops('rebuild', 'merchant-metrics', '--version', '2', '--max-lag', '0')).toEqual([
        'merchant-metrics v2 is already built (catching_up); running projectors follow it from JetStream',
        expect.stringMatching(/^no projector is running, so not waiting: v2 will catch up once one runs \(`npm start` runs one\); 2 events behind in 1 partitions, lag \d+\.\d s$/),
        `then ${next}`,
      ]);
    });

    it('fails after --wait-timeout when its projector makes no progress, saying how far behind it is', async () => {
      await heartbeat(2, 'projector-stuck');
      const started = Date.now();
      await expect(ops('rebuild', 'merchant-metrics', '--version', '2', '--max-lag', '0', '--wait-timeout', '1')).rejects.toThrow(
        /^v2 has not caught up within 1 s: 2 events behind in 1 partitions, lag \d+\.\d s \(promote needs under 0 s\); it stays built and projectors keep following it: rerun this command to wait again, or check with `projections list`$/,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    });

    it('draws the lag while it waits, and returns once the projector has caught up', async () => {
      const { written, stream } = recorder();
      const waiting = awaitCatchUp(context(), pool, PROJECTION_NAME, 2, { maxLagSeconds: 0, timeoutSeconds: 60 }, () => false, stream);
      await eventually(() => expect(written[0]).toMatch(
        /^catching up from JetStream: 2 events behind in 1 partitions, lag \d+\.\d s \(promote needs under 0 s\)  waited 0 s  1 projector following\n$/,
      ));
      expect((await applyEverything()).rowCount).toBe(1);
      await waiting;
      expect(lines).toEqual([`v2 has caught up (0 events behind in 0 partitions, lag 0.0 s; promote needs under 0 s): ${next}`]);
    });

    it('gives projectors that run but do not follow the version a grace period, then says so', async () => {
      await pool.query(`delete from projections.members where version = 2`);
      await heartbeat(1, 'projector-v1-only');
      await new EventStore(pool, await readPartitionCount(pool)).append([sampleEvent({ merchantId: 'm-ops' })]);
      const { written, stream } = recorder();
      const started = Date.now();
      await awaitCatchUp(context(), pool, PROJECTION_NAME, 2, { maxLagSeconds: 0, timeoutSeconds: 60, followerGraceSeconds: 1 }, () => false, stream);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(written[0]).toMatch(/  waiting for a projector to follow\n$/);
      expect(lines).toEqual([
        expect.stringMatching(/^no projector follows v2, although projectors run \(does their code know v2\? restart them on this revision\); not waiting: 1 events behind in 1 partitions, lag \d+\.\d s$/),
        `then ${next}`,
      ]);
    });

    it('stops waiting at once when asked (Ctrl-C)', async () => {
      await awaitCatchUp(context(), pool, PROJECTION_NAME, 2, { maxLagSeconds: 0, timeoutSeconds: 60 }, () => true, recorder().stream);
      expect(lines).toEqual([
        expect.stringMatching(new RegExp(
          `^stopped waiting \\(1 events behind in 1 partitions, lag \\d+\\.\\d s\\); v2 stays built and running projectors keep following it: rerun this command to wait again, or ${next.replace(/[`()]/g, '\\$&')}$`,
        )),
      ]);
    });

    it('with --no-wait, does not wait', async () => {
      expect(await ops('rebuild', 'merchant-metrics', '--version', '2', '--max-lag', '0', '--no-wait')).toEqual([
        'merchant-metrics v2 is already built (catching_up); running projectors follow it from JetStream',
        `not waiting (--no-wait): running projectors follow v2 from JetStream; ${next}`,
      ]);
    });
  });
});
