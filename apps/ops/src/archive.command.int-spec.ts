import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeArchiveReaders, readArchivedPartition } from '@app/archive';
import { createKysely, createPool, type Database } from '@app/database';
import { partitionTable, readPartition, readPartitionCount } from '@app/event-store';
import { testDatabase, type TestDatabase } from '@app/testing';
import { merchantsInDistinctPartitions, storeCraftedEvents } from '../../../libs/archive/src/testing/crafted-events.js';
import { archiveCommands } from './archive.command.js';
import { OpsError, resolveCommand, UsageError, type OpsContext } from './cli.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The real CLI in a child process, for what only it does: the group's registration, exit codes, the one-line error. */
async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = promisify(execFile);
  const options = { cwd: repoRoot, env: { ...process.env, ...env } };
  return run(process.execPath, ['scripts/run-ts.mjs', 'apps/ops/src/main.ts', ...args], options).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (failed: { code: number; stdout: string; stderr: string }) => ({ code: failed.code, stdout: failed.stdout, stderr: failed.stderr }),
  );
}

describe('ops archive', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let db: Kysely<Database>;
  let scratch: string;
  let dir: string;
  let partition: number;
  const savedArchiveDir = process.env.ARCHIVE_DIR;

  /** Runs a command as main.ts does, minus the process: returns what it printed, or throws what it threw. */
  const ops = async (...argv: string[]): Promise<string[]> => {
    const lines: string[] = [];
    const context: OpsContext = { db: async () => db, databaseUrl: () => database.url, out: (line) => lines.push(line) };
    const { command, args, options } = resolveCommand([archiveCommands], ['archive', ...argv]);
    await command.run(context, args, options);
    return lines;
  };

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
    db = createKysely(createPool({ connectionString: database.url, max: 1 }));
    scratch = mkdtempSync(join(tmpdir(), 'ops-archive-'));
    dir = join(scratch, 'archive');
    const partitions = await readPartitionCount(pool);
    const [merchant] = merchantsInDistinctPartitions(1, partitions, 'm-ops-archive');
    const stored = await storeCraftedEvents(pool, partitions, [
      { merchantId: merchant!, recordedAt: '2021-03-01T00:00:00.000001Z' },
      { merchantId: merchant!, recordedAt: '2021-04-01T00:00:00.000002Z' },
      { merchantId: merchant!, recordedAt: '2021-04-02T00:00:00.000003Z' },
      { merchantId: merchant!, recordedAt: '2022-06-01T00:00:00Z' },
    ]);
    partition = stored[0]!.partition;
  });
  afterEach(() => {
    if (savedArchiveDir === undefined) delete process.env.ARCHIVE_DIR;
    else process.env.ARCHIVE_DIR = savedArchiveDir;
  });
  afterAll(async () => {
    await closeArchiveReaders();
    await db?.destroy();
    await pool?.end();
    await database?.drop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('refuses bad command lines and an unset ARCHIVE_DIR, writing nothing', async () => {
    delete process.env.ARCHIVE_DIR;
    await expect(ops('export', '--dir', dir)).rejects.toThrow(new UsageError('--before is required: archive export --before DATE'));
    await expect(ops('export', '--before', 'last year', '--dir', dir)).rejects.toThrow(UsageError);
    await expect(ops('export', '--before', '2022-13-45', '--dir', dir)).rejects.toThrow(/--before must be a date \(2023-01-01, midnight UTC\) or an ISO 8601 time with its offset, got "2022-13-45"/);
    await expect(ops('export', '--before', '2999-01-01', '--dir', dir)).rejects.toThrow(OpsError);
    await expect(ops('export', '--before', '2999-01-01', '--dir', dir)).rejects.toThrow(/before 2999-01-01T00:00:00\.000Z is in the future/);
    await expect(ops('export', '--before', '2022-01-01')).rejects.toThrow(
      new OpsError('ARCHIVE_DIR is required but not set: the directory of the cold archive of raw events; set it or pass --dir DIR'),
    );
    await expect(ops('remove')).rejects.toThrow(new UsageError('archive remove needs exactly one of --partition N and --all-verified'));
    await expect(ops('remove', '--partition', '1', '--all-verified')).rejects.toThrow(UsageError);
    await expect(ops('restore', '--partition', 'one', '--dir', dir)).rejects.toThrow(new UsageError('--partition must be a partition number (0, 1, …), got "one"'));
    await expect(ops('verify', '--dir', dir)).rejects.toThrow(new OpsError(`${dir} holds no manifest.json: export an archive there first`));
    expect(existsSync(dir)).toBe(false);
  });

  it('exports, verifies, removes, serves and restores through the commands, with ARCHIVE_DIR', async () => {
    process.env.ARCHIVE_DIR = dir;
    const before = await readPartition(pool, partition, 0, 100);
    expect(await ops('export', '--before', '2022-01-01')).toEqual([
      `archived 3 events in 2 new files into ${dir}; it holds 3 events recorded before 2022-01-01T00:00:00.000Z`,
      'next: `archive verify`, which records the ranges that `archive remove` may then take out of the hot store',
    ]);
    expect(await ops('remove', '--all-verified')).toEqual(['no verified range waits for removal (run `archive verify` first)']);
    expect(await ops('verify')).toEqual([
      `partition ${partition}: positions 1 to 3 (3 events) verified: removable with \`archive remove --partition ${partition}\``,
      'verified 2 files, 3 events: no problems',
    ]);
    const status = await ops('status');
    expect(status[0]).toMatch(new RegExp(`^archive ${dir}: events recorded before 2022-01-01T00:00:00.000Z, 2 files, updated \\d{4}-`));
    expect(status).toContain(`partition ${partition}: archived 1-3 (2 files), verified 1-3, removed -, head 4`);

    expect(await ops('remove', '--all-verified')).toEqual([`removed partition ${partition}: positions 1 to 3 (3 events) from the hot store`]);
    expect((await pool.query(`select position::int from ${partitionTable(partition)} order by position`)).rows).toEqual([{ position: 4 }]);
    expect(await readArchivedPartition(dir, partition, 0, 100)).toEqual(before.slice(0, 3));
    expect(await ops('status')).toContain(`partition ${partition}: archived 1-3 (2 files), verified -, removed 1-3, head 4`);
    await expect(ops('remove', '--partition', String(partition))).rejects.toThrow(new OpsError(
      `partition ${partition} has no verified archived range to remove: export and verify the archive first`,
    ));

    expect(await ops('restore', '--partition', String(partition))).toEqual([`restored partition ${partition}: positions 1 to 3 (3 events) into the hot store`]);
    expect(await readPartition(pool, partition, 0, 100)).toEqual(before);
  });

  it('as a process: exit 2 for a wrong command line, exit 1 with one line for a refusal', async () => {
    const env = { DATABASE_URL: database.url, ARCHIVE_DIR: dir };
    const [wrong, refused] = await Promise.all([
      cli(['archive', 'export', '--before', 'soon'], env),
      cli(['archive', 'restore', '--partition', String(partition)], env),
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^ops: --before must be a date/);
    expect(wrong.stderr).toContain('archive export [--before DATE] [--dir DIR]');
    expect(refused).toMatchObject({ code: 1, stdout: '', stderr: `ops: partition ${partition} has no range removed from the hot store\n` });
  });
});
