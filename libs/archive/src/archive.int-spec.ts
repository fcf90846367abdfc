import { createHash, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { EventConflictError, EventStore, partitionTable, readPartition, readPartitionCount, type StoredEventRow } from '@app/event-store';
import { testDatabase, type TestDatabase } from '@app/testing';
import { sampleEvent } from '../../event-store/src/testing/sample-events.js';
import { ArchiveError } from './archive-error.js';
import { archivedRange, closeArchiveReaders, readArchivedPartition } from './archive-reader.js';
import { exportArchive } from './export-archive.js';
import { readManifest, type ArchiveManifest } from './manifest.js';
import { removeArchivedRange } from './remove-archived-range.js';
import { restoreArchivedRange } from './restore-archived-range.js';
import { merchantsInDistinctPartitions, partitionSnapshot, storeCraftedEvents, type StoredCraftedEvent } from './testing/crafted-events.js';
import { memberLoginPool, type MemberLoginPool } from './testing/member-login.js';
import { verifyArchive } from './verify-archive.js';

const BEFORE = new Date('2024-01-01T00:00:00Z');
const LATER = new Date('2024-03-01T00:00:00Z');
const TRICKY = 'quote " backslash \\ tab \t newline \n unicode 東京 \u0001 emoji 🦆';

const pad = (p: number) => String(p).padStart(2, '0');
const at = (p: number, month: string, first: number, last: number) =>
  `p${pad(p)}/${month}_${String(first).padStart(12, '0')}-${String(last).padStart(12, '0')}.parquet`;
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('the cold archive', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let partitions: number;
  let archivist: MemberLoginPool;
  let dir: string;
  let a: number, b: number, c: number;
  let crafted: StoredCraftedEvent[];
  /** readPartition's answers before anything was removed, per partition. */
  const hot = new Map<number, StoredEventRow[]>();
  /** Every column of every row, before anything was removed. */
  const original = new Map<number, string[]>();

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 4 });
    partitions = await readPartitionCount(pool);
    archivist = await memberLoginPool(database.url, pool, 'event_archivist');
    dir = mkdtempSync(join(tmpdir(), 'archive-'));
    const [ma, mb, mc] = merchantsInDistinctPartitions(3, partitions);
    crafted = await storeCraftedEvents(pool, partitions, [
      // Partition of ma: positions 1 to 8.
      { merchantId: ma!, recordedAt: '2023-01-10T08:00:00.000001Z', amount: 100 },
      { merchantId: ma!, recordedAt: '2023-01-31T23:59:59.999999Z', amount: 200 },
      { merchantId: ma!, recordedAt: '2023-02-01T00:00:00.000000Z', amount: 300 },
      // Recorded earlier, committed later: stays with its neighbours in February's file.
      { merchantId: ma!, recordedAt: '2023-01-31T23:59:59.500000Z', amount: 400 },
      { merchantId: ma!, recordedAt: '2023-02-15T12:00:00.123456Z', amount: 500, note: TRICKY },
      { merchantId: ma!, recordedAt: '2023-03-01T00:00:00.000001Z', amount: 600 },
      // The first recorded at or after BEFORE: the range stops before it …
      { merchantId: ma!, recordedAt: '2024-02-01T00:00:00.000000Z', amount: 700 },
      // … so this straggler, recorded before BEFORE, waits for a later export.
      { merchantId: ma!, recordedAt: '2023-12-31T00:00:00.000000Z', amount: 800 },
      // Partition of mb: positions 1 to 5, all in June 2023.
      ...[1, 2, 3, 4, 5].map((day) => ({ merchantId: mb!, recordedAt: `2023-06-0${day}T10:00:00.00000${day}Z`, amount: day * 10 })),
      // Partition of mc: nothing old enough.
      { merchantId: mc!, recordedAt: '2025-01-01T00:00:00.000000Z', amount: 1 },
    ]);
    [a, b, c] = [ma, mb, mc].map((m) => crafted.find((e) => e.merchantId === m)!.partition);
    // And events appended now, after all of those.
    await new EventStore(pool, partitions).append([ma!, mb!, mc!, 'm-elsewhere'].map((merchantId) => sampleEvent({ merchantId })));
    for (let p = 0; p < partitions; p++) {
      hot.set(p, await readPartition(pool, p, 0, 1000));
      original.set(p, await partitionSnapshot(pool, p));
    }
  });
  afterAll(async () => {
    await closeArchiveReaders();
    await archivist?.drop();
    await pool?.end();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const craftedOf = (partition: number) => crafted.filter((e) => e.partition === partition);
  const recordedAt = (partition: number, position: number) => craftedOf(partition).find((e) => e.position === position)!.recordedAt;
  const ranges = async () =>
    (await pool.query(`select partition, first_position, last_position, events, removed_at is not null as removed from event_store.archived_ranges order by 1, 2`)).rows;
  const positionsHeld = async (partition: number) =>
    (await pool.query<{ position: string }>(`select position from ${partitionTable(partition)} order by position`)).rows.map((r) => Number(r.position));
  const heads = async () => (await pool.query(`select partition, head from event_store.partition_heads order by partition`)).rows;

  it('exports each partition up to its first event recorded at or after `before`, a file per month (and part)', async () => {
    const progress: number[] = [];
    const result = await exportArchive(pool, { dir, before: BEFORE, batchEvents: 2, maxFileEvents: 2, onProgress: (p) => progress.push(p.events) });

    const expectedFiles = [
      { path: at(a, '2023-01', 1, 2), partition: a, firstPosition: 1, lastPosition: 2 },
      { path: at(a, '2023-02', 3, 4), partition: a, firstPosition: 3, lastPosition: 4 },
      { path: at(a, '2023-02', 5, 5), partition: a, firstPosition: 5, lastPosition: 5 },
      { path: at(a, '2023-03', 6, 6), partition: a, firstPosition: 6, lastPosition: 6 },
      { path: at(b, '2023-06', 1, 2), partition: b, firstPosition: 1, lastPosition: 2 },
      { path: at(b, '2023-06', 3, 4), partition: b, firstPosition: 3, lastPosition: 4 },
      { path: at(b, '2023-06', 5, 5), partition: b, firstPosition: 5, lastPosition: 5 },
    ].sort((x, y) => x.partition - y.partition || x.firstPosition - y.firstPosition);
    const files = result.manifest.files;
    expect(files.map(({ path, partition, firstPosition, lastPosition }) => ({ path, partition, firstPosition, lastPosition }))).toEqual(expectedFiles);
    for (const file of files) {
      expect(file.events).toBe(file.lastPosition - file.firstPosition + 1);
      expect(file.sha256).toBe(sha256(join(dir, file.path)));
      expect(file.bytes).toBe(statSync(join(dir, file.path)).size);
    }
    // February's first file holds the straggler recorded in January: its earliest recorded_at is that one.
    expect(files.find((f) => f.path === at(a, '2023-02', 3, 4))).toMatchObject({ minRecordedAt: recordedAt(a, 4), maxRecordedAt: recordedAt(a, 3) });
    expect(files.find((f) => f.path === at(a, '2023-01', 1, 2))).toMatchObject({ minRecordedAt: recordedAt(a, 1), maxRecordedAt: recordedAt(a, 2) });

    const expectedRange = (p: number) => (p === a ? 6 : p === b ? 5 : 0);
    expect(result.manifest.ranges.map((r) => r.lastPosition)).toEqual(Array.from({ length: partitions }, (_, p) => expectedRange(p)));
    expect(result.manifest.ranges[a]!.lastEventId).toBe(craftedOf(a).find((e) => e.position === 6)!.eventId);
    expect(result.manifest.before).toBe(BEFORE.toISOString());
    expect(result.events).toBe(11);
    expect(progress.at(-1)).toBe(11);

    const onDisk = await readManifest(dir);
    expect(onDisk!.manifest).toEqual(result.manifest);
    expect(onDisk!.sha256).toBe(sha256(join(dir, 'manifest.json')));
  });

  it('keeps every column, recorded_at with its microseconds and the payload as PostgreSQL prints it', async () => {
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const reader = await duck.runAndReadAll(
      `select position, event_id::varchar, typeof(recorded_at), strftime(recorded_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ'), payload::varchar, hex(body_hash)
       from read_parquet('${join(dir, at(a, '2023-02', 5, 5))}')`,
    );
    const event = craftedOf(a).find((e) => e.position === 5)!;
    const { rows } = await pool.query(`select payload::text as payload from ${partitionTable(a)} where position = 5`);
    expect(reader.getRows()).toEqual([[5n, event.eventId, 'TIMESTAMP WITH TIME ZONE', event.recordedAt, rows[0].payload, event.bodyHash.toString('hex').toUpperCase()]]);
    const compression = await duck.runAndReadAll(`select distinct compression from parquet_metadata('${join(dir, at(a, '2023-02', 5, 5))}')`);
    expect(compression.getRows()).toEqual([['ZSTD']]);
    duck.closeSync();
  });

  it('reads archived events as readPartition reads them from the store', async () => {
    for (const [p, last] of [[a, 6], [b, 5]] as const) {
      const stored = hot.get(p)!.slice(0, last);
      expect(await readArchivedPartition(dir, p, 0, 1000)).toEqual(stored);
      expect(await readArchivedPartition(dir, p, 2, 3)).toEqual(await readPartition(pool, p, 2, 3));
      expect(await readArchivedPartition(dir, p, last, 10)).toEqual([]);
      expect(await archivedRange(dir, p)).toBe(last);
    }
    expect(await readArchivedPartition(dir, c, 0, 10)).toEqual([]);
    expect(await archivedRange(dir, c)).toBe(0);
    await expect(readArchivedPartition(dir, a, -1, 10)).rejects.toThrow(RangeError);
  });

  it('refuses to remove a range no verify has recorded', async () => {
    await expect(removeArchivedRange(archivist.pool, a)).rejects.toThrow(ArchiveError);
    await expect(removeArchivedRange(archivist.pool, a)).rejects.toThrow(`partition ${a} has no verified archived range to remove`);
    expect(await positionsHeld(a)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('verifies every file against its manifest and the store, and records the ranges', async () => {
    const result = await verifyArchive(archivist.pool, { dir, batchEvents: 2 });
    expect(result.problems).toEqual([]);
    expect(result).toMatchObject({ files: 7, events: 11, withdrawn: [] });
    expect(await ranges()).toEqual([
      { partition: a, first_position: '1', last_position: '6', events: '6', removed: false },
      { partition: b, first_position: '1', last_position: '5', events: '5', removed: false },
    ].sort((x, y) => x.partition - y.partition));
    const { rows } = await pool.query(`select distinct manifest_sha256 from event_store.archived_ranges`);
    expect(rows).toEqual([{ manifest_sha256: sha256(join(dir, 'manifest.json')) }]);
  });

  it('still refuses deletes to the owner, payments_writer and any role granted DELETE', async () => {
    const immutable = /event store is immutable: DELETE on event_store\.events_p\d+ is not allowed/;
    await expect(pool.query(`delete from ${partitionTable(a)} where position = 1`)).rejects.toThrow(immutable);
    await expect(pool.query(`delete from event_store.events where partition = ${a}`)).rejects.toThrow(immutable);
    const writer = await memberLoginPool(database.url, pool, 'payments_writer');
    const deleter = await memberLoginPool(database.url, pool, 'payments_writer');
    await pool.query(`grant delete on ${partitionTable(a)} to ${deleter.role}`);
    try {
      await expect(writer.pool.query(`delete from ${partitionTable(a)} where position = 1`)).rejects.toThrow(`permission denied for table events_p${pad(a)}`);
      await expect(archivist.pool.query(`delete from ${partitionTable(a)} where position = 1`)).rejects.toThrow(`permission denied for table events_p${pad(a)}`);
      // Even with the removal's setting in place: only the functions' owner passes, and only inside remove_archived_range;
      // and a function of the caller's own cannot stand in for the owner's lookup.
      await pool.query(`create schema ${deleter.role} authorization ${deleter.role}`);
      const client = await deleter.pool.connect();
      try {
        await client.query('begin');
        await client.query(`set local event_store.archive_removal = '${a}:1:6'`);
        await expect(client.query(`delete from ${partitionTable(a)} where position = 1`)).rejects.toThrow(immutable);
        await client.query('rollback');
        await client.query('begin');
        await client.query(`set local search_path = ${deleter.role}, pg_catalog`);
        await client.query(`create function ${deleter.role}.pg_get_userbyid(oid) returns name language sql as 'select current_user'`);
        await client.query(`set local event_store.archive_removal = '${a}:1:6'`);
        await expect(client.query(`delete from ${partitionTable(a)} where position = 1`)).rejects.toThrow(immutable);
      } finally {
        await client.query('rollback');
        client.release();
      }
      await expect(writer.pool.query(`select event_store.remove_archived_range(${a})`)).rejects.toThrow(/permission denied for function remove_archived_range/);
      await expect(writer.pool.query(`select event_store.record_verified_range(${a}, 8, 'x')`)).rejects.toThrow(/permission denied for function record_verified_range/);
      await expect(archivist.pool.query(`update event_store.archived_ranges set events = events`)).rejects.toThrow(/permission denied for table archived_ranges/);
    } finally {
      await pool.query(`revoke delete on ${partitionTable(a)} from ${deleter.role}`);
      await writer.drop();
      await deleter.drop();
    }
    expect(await positionsHeld(a)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('removes a verified range from the hot store in one audited operation, heads untouched', async () => {
    const headsBefore = await heads();
    expect(await removeArchivedRange(archivist.pool, a)).toEqual({ partition: a, firstPosition: 1, lastPosition: 6, events: 6 });
    expect(await removeArchivedRange(archivist.pool, b)).toEqual({ partition: b, firstPosition: 1, lastPosition: 5, events: 5 });
    expect(await positionsHeld(a)).toEqual([7, 8, 9]);
    expect(await positionsHeld(b)).toEqual([6]);
    expect(await heads()).toEqual(headsBefore);
    expect((await ranges()).map((r) => r.removed)).toEqual([true, true]);
    const { rows } = await pool.query(`select db_user, operation, partition, first_position, last_position, events from event_store.archive_audit order by at, partition`);
    expect(rows).toEqual([
      { db_user: archivist.role, operation: 'remove', partition: a, first_position: '1', last_position: '6', events: '6' },
      { db_user: archivist.role, operation: 'remove', partition: b, first_position: '1', last_position: '5', events: '5' },
    ]);
    await expect(removeArchivedRange(archivist.pool, a)).rejects.toThrow(`partition ${a} has no verified archived range to remove`);
    await expect(pool.query(`delete from event_store.archive_audit`)).rejects.toThrow(/event store is immutable: DELETE on event_store\.archive_audit/);
  });

  it('serves the removed range from the archive exactly as the store served it', async () => {
    expect(await readArchivedPartition(dir, a, 0, 1000)).toEqual(hot.get(a)!.slice(0, 6));
    expect(await readArchivedPartition(dir, b, 0, 1000)).toEqual(hot.get(b)!.slice(0, 5));
    // The store serves the rest, so both together are what the store served before.
    const joined = [...(await readArchivedPartition(dir, a, 0, 1000)), ...(await readPartition(pool, a, 6, 1000))];
    expect(joined).toEqual(hot.get(a));
  });

  it('still answers a resubmitted archived event as a duplicate, and a changed one as a conflict', async () => {
    const store = new EventStore(pool, partitions);
    const archived = craftedOf(a).find((e) => e.position === 2)!;
    expect(await store.append([archived])).toEqual({ accepted: 0, duplicates: 1 });
    const changed = sampleEvent({ eventId: archived.eventId, merchantId: archived.merchantId, amount: 999 });
    await expect(store.append([changed])).rejects.toBeInstanceOf(EventConflictError);
    expect(await positionsHeld(a)).toEqual([7, 8, 9]);
  });

  it('restores only rows identical to those removed', async () => {
    const client = await archivist.pool.connect();
    // The fields of the event removed at a position (of the last one past them: those are refused before being read).
    const removed = (p: number) => craftedOf(b)[Math.min(p, 5) - 1]!;
    const stage = (rows: Array<[number, string]>) =>
      client.query(
        `select event_store.restore_archived_rows($1, $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::jsonb[], $9::uuid[], $10::text[])`,
        [b, rows.map(([p]) => p), rows.map(([p]) => removed(p).eventId), rows.map(([p]) => removed(p).merchantId), rows.map(() => 'payment_completed'),
          rows.map(([p]) => removed(p).occurredAt), rows.map(([p]) => removed(p).recordedAt), rows.map(([, payload]) => payload), rows.map(() => null), rows.map(() => null)],
      );
    const payload = (p: number) => removed(p).payloadJson;
    try {
      await client.query('begin');
      await stage([1, 2, 3, 4].map((p) => [p, payload(p)]));
      await expect(client.query(`select event_store.finish_restore(${b})`)).rejects.toThrow(`partition ${b}: 4 of the 5 events removed at positions 1 to 5 were given; nothing restored`);
      await client.query('rollback');

      await client.query('begin');
      await stage([1, 2, 3, 4, 5].map((p) => [p, p === 3 ? payload(3).replace('"30"', '"31"') : payload(p)]));
      await expect(client.query(`select event_store.finish_restore(${b})`)).rejects.toThrow(`partition ${b}: the events given for positions 1 to 5 differ from those removed; nothing restored`);
      await client.query('rollback');

      await client.query('begin');
      await expect(stage([[6, payload(1)]])).rejects.toThrow(`partition ${b}: position 6 is in no range removed from the hot store`);
      await client.query('rollback');
    } finally {
      client.release();
    }
    expect(await positionsHeld(b)).toEqual([6]);
  });

  it('restores nothing from a file whose checksum is wrong, and verify names the file', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'archive-tampered-'));
    try {
      cpSync(dir, copy, { recursive: true });
      const victim = join(copy, at(b, '2023-06', 3, 4));
      const bytes = readFileSync(victim);
      bytes[bytes.length >> 1] ^= 0xff;
      writeFileSync(victim, bytes);
      await expect(restoreArchivedRange(archivist.pool, { dir: copy, partition: b })).rejects.toThrow(
        `${victim}: SHA-256 is ${sha256(victim)}, the manifest says `,
      );
      const result = await verifyArchive(archivist.pool, { dir: copy });
      expect(result.problems[0]).toEqual({ partition: b, file: at(b, '2023-06', 3, 4), message: expect.stringMatching(/^SHA-256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}$/) });
      expect(result.verified.map((r) => r.partition)).toEqual([]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
    expect(await positionsHeld(b)).toEqual([6]);
  });

  it('restores a removed range: the store then equals the original, audited', async () => {
    const progress: number[] = [];
    expect(await restoreArchivedRange(archivist.pool, { dir, partition: a, batchEvents: 4, onProgress: (p) => progress.push(p.events) }))
      .toEqual({ partition: a, firstPosition: 1, lastPosition: 6, events: 6 });
    expect(progress).toEqual([4, 6]);
    expect(await restoreArchivedRange(archivist.pool, { dir, partition: b })).toEqual({ partition: b, firstPosition: 1, lastPosition: 5, events: 5 });
    for (let p = 0; p < partitions; p++) expect(await partitionSnapshot(pool, p)).toEqual(original.get(p));
    expect(await readPartition(pool, a, 0, 1000)).toEqual(hot.get(a));
    expect((await ranges()).map((r) => r.removed)).toEqual([false, false]);
    const { rows } = await pool.query(`select operation, partition, events from event_store.archive_audit where operation = 'restore' order by at, partition`);
    expect(rows).toEqual([{ operation: 'restore', partition: a, events: '6' }, { operation: 'restore', partition: b, events: '5' }]);
    expect((await pool.query(`select count(*)::int as n from event_store.archive_restore_staging`)).rows).toEqual([{ n: 0 }]);
    await expect(restoreArchivedRange(archivist.pool, { dir, partition: a })).rejects.toThrow(`partition ${a} has no range removed from the hot store`);
  });

  it('extends the archive with a later `before`, adding files and rewriting none', async () => {
    const before = (await readManifest(dir))!.manifest;
    const stamps = before.files.map((f) => [f.path, statSync(join(dir, f.path)).mtimeMs, sha256(join(dir, f.path))]);
    // What an export that failed after moving its files into place would leave, and a file of someone else's.
    const orphan = join(dir, at(a, '2023-12', 7, 8));
    writeFileSync(orphan, 'not listed');
    writeFileSync(join(dir, 'notes.txt'), 'kept');
    const result = await exportArchive(archivist.pool, { dir, before: LATER, maxFileEvents: 2 });
    expect(existsSync(orphan)).toBe(false);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('kept');
    // Position 7 (February 2024) is archived now, and the straggler at 8 with it; 9 was recorded now.
    expect(result.added.map((f) => [f.path, f.minRecordedAt, f.maxRecordedAt])).toEqual([[at(a, '2024-02', 7, 8), recordedAt(a, 8), recordedAt(a, 7)]]);
    expect(result.manifest.files.slice(0, before.files.length).filter((f) => f.partition !== a)).toEqual(before.files.filter((f) => f.partition !== a));
    expect(result.manifest.files).toEqual([...before.files, ...result.added].sort((x, y) => x.partition - y.partition || x.firstPosition - y.firstPosition));
    expect(result.manifest.ranges[a]!.lastPosition).toBe(8);
    expect(result.manifest.ranges[b]!.lastPosition).toBe(5);
    expect(result.manifest.createdAt).toBe(before.createdAt);
    expect(before.files.map((f) => [f.path, statSync(join(dir, f.path)).mtimeMs, sha256(join(dir, f.path))])).toEqual(stamps);
    expect(await readArchivedPartition(dir, a, 0, 1000)).toEqual(hot.get(a)!.slice(0, 8));

    const verified = await verifyArchive(archivist.pool, { dir });
    expect(verified.problems).toEqual([]);
    expect(verified.verified).toEqual([
      { partition: a, firstPosition: 1, lastPosition: 8, events: 8 },
      { partition: b, firstPosition: 1, lastPosition: 5, events: 5 },
    ].sort((x, y) => x.partition - y.partition));
  });

  it('fails verify on a tampered file, naming file and position, and then refuses to remove the range', async () => {
    const victim = join(dir, at(a, '2023-02', 3, 4));
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const tampered = `${victim}.tampered`;
    await duck.run(`copy (select * replace (case when position = 4 then replace(payload::varchar, '"400"', '"401"')::json else payload end as payload)
                   from read_parquet('${victim}')) to '${tampered}' (format parquet, compression zstd)`);
    duck.closeSync();
    cpSync(tampered, victim);
    rmSync(tampered);

    const result = await verifyArchive(archivist.pool, { dir });
    expect(result.problems).toEqual([
      { partition: a, file: at(a, '2023-02', 3, 4), message: expect.stringMatching(/^SHA-256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}$/) },
      { partition: a, file: at(a, '2023-02', 3, 4), position: 4, message: 'differs from the store in payload' },
    ]);
    expect(result.withdrawn).toEqual([a]);
    expect(result.verified.map((r) => r.partition)).toEqual([b]);
    await expect(removeArchivedRange(archivist.pool, a)).rejects.toThrow(`partition ${a} has no verified archived range to remove`);
    expect(await positionsHeld(a)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('refuses to extend an archive that is not this store\'s, or with an earlier or future `before`', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'archive-foreign-'));
    try {
      cpSync(dir, copy, { recursive: true });
      const manifest = JSON.parse(readFileSync(join(copy, 'manifest.json'), 'utf8')) as ArchiveManifest;
      const foreign = randomUUID();
      manifest.ranges[b]!.lastEventId = foreign;
      writeFileSync(join(copy, 'manifest.json'), JSON.stringify(manifest));
      const lastOfB = craftedOf(b).find((e) => e.position === 5)!.eventId;
      await expect(exportArchive(pool, { dir: copy, before: LATER })).rejects.toThrow(
        `the archive in ${copy} does not match this event store: partition ${b} position 5 is event ${lastOfB} here, ${foreign} in the manifest`,
      );
      writeFileSync(join(copy, 'manifest.json'), JSON.stringify({ ...manifest, partitions: 4, ranges: manifest.ranges.slice(0, 4).map((r) => ({ ...r, lastPosition: 0, lastEventId: null })), files: [] }));
      await expect(exportArchive(pool, { dir: copy, before: LATER })).rejects.toThrow(`the archive in ${copy} does not match this event store: it has 4 partitions, the store ${partitions}`);
      writeFileSync(join(copy, 'manifest.json'), '{"format":"something else"}');
      await expect(exportArchive(pool, { dir: copy, before: LATER })).rejects.toThrow(`${join(copy, 'manifest.json')}: not a manifest of this archive format`);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
    await expect(exportArchive(pool, { dir, before: BEFORE })).rejects.toThrow(`holds events recorded before ${LATER.toISOString()}; before ${BEFORE.toISOString()} may not be earlier`);
    await expect(exportArchive(pool, { dir, before: new Date(Date.now() + 3_600_000) })).rejects.toThrow(/is in the future/);
  });
});
