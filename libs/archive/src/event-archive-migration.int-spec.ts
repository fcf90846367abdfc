import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKysely, createPool, type Database } from '@app/database';
import { partitionTable, readPartitionCount } from '@app/event-store';
import { testDatabase, type TestDatabase } from '@app/testing';
import { down, up } from '../../../migrations/2026-12-03T01-00-event-archive.js';
import { closeArchiveReaders } from './archive-reader.js';
import { exportArchive } from './export-archive.js';
import { removeArchivedRange } from './remove-archived-range.js';
import { restoreArchivedRange } from './restore-archived-range.js';
import { merchantsInDistinctPartitions, storeCraftedEvents } from './testing/crafted-events.js';
import { verifyArchive } from './verify-archive.js';

describe('migration 2026-12-03T01-00-event-archive', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let db: Kysely<Database>;
  let dir: string;

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 2 });
    db = createKysely(createPool({ connectionString: database.url, max: 1 }));
    dir = mkdtempSync(join(tmpdir(), 'archive-migration-'));
  });
  afterAll(async () => {
    await closeArchiveReaders();
    await db?.destroy();
    await pool?.end();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const exists = async (name: string) => (await pool.query(`select to_regclass($1) is not null as e`, [name])).rows[0].e as boolean;
  const archivistMay = async (privilege: string, table: string) =>
    (await pool.query(`select has_table_privilege('event_archivist', $1, $2) as p`, [table, privilege])).rows[0].p as boolean;

  it('is undone only while no range is out of the hot store, and then the store is as before it', async () => {
    const partitions = await readPartitionCount(pool);
    const [merchant] = merchantsInDistinctPartitions(1, partitions, 'm-migration');
    const [event] = await storeCraftedEvents(pool, partitions, [{ merchantId: merchant!, recordedAt: '2022-05-01T00:00:00Z' }]);
    await exportArchive(pool, { dir, before: new Date('2023-01-01T00:00:00Z') });
    await verifyArchive(pool, { dir });
    // The owner may call the functions too, as the owner of anything may.
    await removeArchivedRange(pool, event!.partition);
    await expect(down(db)).rejects.toThrow('events are removed from the hot store (event_store.archived_ranges): restore them before undoing this migration');

    await restoreArchivedRange(pool, { dir, partition: event!.partition });
    await down(db);
    expect(await exists('event_store.archived_ranges')).toBe(false);
    expect(await exists('event_store.archive_audit')).toBe(false);
    expect((await pool.query(`select count(*)::int as n from pg_proc where pronamespace = 'event_store'::regnamespace and proname like '%archive%'`)).rows).toEqual([{ n: 0 }]);
    expect(await archivistMay('select', partitionTable(event!.partition))).toBe(false);
    await pool.query(`set event_store.archive_removal = '${event!.partition}:1:1'`);
    await expect(pool.query(`delete from ${partitionTable(event!.partition)}`)).rejects.toThrow(/event store is immutable: DELETE/);
    await pool.query(`reset event_store.archive_removal`);

    await up(db);
    expect(await exists('event_store.archived_ranges')).toBe(true);
    expect(await archivistMay('select', partitionTable(event!.partition))).toBe(true);
    expect(await archivistMay('insert', 'event_store.archived_ranges')).toBe(false);
    const { rows } = await pool.query(
      `select p.proname, p.prosecdef, has_function_privilege('public', p.oid, 'execute') as public, has_function_privilege('event_archivist', p.oid, 'execute') as archivist
       from pg_proc p where p.pronamespace = 'event_store'::regnamespace and (p.proname like '%archive%' or p.proname like '%verified_range' or p.proname = 'finish_restore')
       order by p.proname`,
    );
    expect(rows).toEqual([
      { proname: 'archive_digest', prosecdef: false, public: false, archivist: false },
      { proname: 'archive_partition_table', prosecdef: false, public: false, archivist: false },
      { proname: 'finish_restore', prosecdef: true, public: false, archivist: true },
      { proname: 'record_verified_range', prosecdef: true, public: false, archivist: true },
      { proname: 'remove_archived_range', prosecdef: true, public: false, archivist: true },
      { proname: 'restore_archived_rows', prosecdef: true, public: false, archivist: true },
      { proname: 'withdraw_verified_range', prosecdef: true, public: false, archivist: true },
    ]);
  });
});
