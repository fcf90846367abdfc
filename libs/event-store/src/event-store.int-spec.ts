import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { testDatabase, type TestDatabase } from '@app/testing';
import { readPartition } from './event-reader.js';
import { EventStore, partitionTable, readPartitionCount } from './event-store.js';
import { EventConflictError } from './new-event.js';
import { partitionOf } from './partition-routing.js';
import { sampleEvent } from './testing/sample-events.js';

describe('event store', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let store: EventStore;

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 20 });
    store = new EventStore(pool, await readPartitionCount(pool));
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  const count = async (sql: string, values: unknown[] = []) => Number((await pool.query(sql, values)).rows[0].n);

  describe('idempotency', () => {
    it('stores an event once and answers a resubmission as a duplicate', async () => {
      const event = sampleEvent({ merchantId: 'm-idem' });
      expect(await store.append([event])).toMatchObject({ accepted: 1, duplicates: 0 });
      expect(await store.append([event])).toEqual({ accepted: 0, duplicates: 1 });
      expect(await count(`select count(*) n from event_store.events where event_id = $1`, [event.eventId])).toBe(1);
    });

    it('stores the new events of a batch that also resubmits a stored one, and only them', async () => {
      const stored = sampleEvent({ merchantId: 'm-mixed' });
      await store.append([stored]);
      const fresh = [sampleEvent({ merchantId: 'm-mixed' }), sampleEvent({ merchantId: 'm-mixed-2' })];
      expect(await store.append([fresh[0], stored, fresh[1]])).toEqual({ accepted: 2, duplicates: 1 });
      const ids = [stored.eventId, ...fresh.map((e) => e.eventId)];
      expect(await count(`select count(*) n from event_store.events where event_id = any($1::uuid[])`, [ids])).toBe(3);
      expect(await count(`select count(*) n from event_store.event_ids where event_id = any($1::uuid[])`, [ids])).toBe(3);
    });

    it('counts a repeat inside one batch as a duplicate', async () => {
      const event = sampleEvent({ merchantId: 'm-idem' });
      const other = sampleEvent({ merchantId: 'm-idem' });
      expect(await store.append([event, other, event])).toMatchObject({ accepted: 2, duplicates: 1 });
    });

    it('rejects the same id with a different body, naming the id, and stores nothing of the batch', async () => {
      const original = sampleEvent({ merchantId: 'm-conflict', amount: 100 });
      await store.append([original]);
      const changed = sampleEvent({ eventId: original.eventId, merchantId: 'm-conflict', amount: 999 });
      const innocent = sampleEvent({ merchantId: 'm-conflict' });
      const error = await store.append([innocent, changed]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EventConflictError);
      expect((error as EventConflictError).eventIds).toEqual([original.eventId]);
      expect((error as Error).message).toContain(original.eventId);
      expect(await count(`select count(*) n from event_store.events where event_id = $1`, [innocent.eventId])).toBe(0);
      const { rows } = await pool.query(`select payload->'paymentCompleted'->'amount'->>'minorUnits' a from event_store.events where event_id = $1`, [original.eventId]);
      expect(rows).toEqual([{ a: '100' }]);
    });

    it('detects a reused id even under another merchant (another partition)', async () => {
      const original = sampleEvent({ merchantId: 'm-a' });
      await store.append([original]);
      let other = 'm-b';
      for (let i = 0; partitionOf(other, store.partitions) === partitionOf('m-a', store.partitions); i++) other = `m-b${i}`;
      const moved = sampleEvent({ eventId: original.eventId, merchantId: other });
      await expect(store.append([moved])).rejects.toBeInstanceOf(EventConflictError);
    });
  });

  it('stores payloads with JSON escapes exactly (COPY text escaping)', async () => {
    const tricky = 'quote " backslash \\ tab \t newline \n return \r unicode 東京 \u0001';
    const base = sampleEvent({ merchantId: 'm-escape' });
    const payloadJson = JSON.stringify({ ...JSON.parse(base.payloadJson), note: tricky });
    const event = { ...base, payloadJson, bodyHash: createHash('sha256').update(payloadJson).digest() };
    expect(await store.append([event])).toMatchObject({ accepted: 1 });
    const { rows } = await pool.query(`select payload->>'note' as note, payload from event_store.events where event_id = $1`, [event.eventId]);
    expect(rows[0].note).toBe(tricky);
    expect(rows[0].payload).toEqual(JSON.parse(payloadJson));
  });

  describe('group commit', () => {
    it('merges concurrent requests into one transaction but answers each on its own', async () => {
      // One append at a time, so the requests queued behind the first are merged.
      const grouped = new EventStore(pool, store.partitions, { maxConcurrentAppends: 1 });
      const stored = sampleEvent({ merchantId: 'm-group', amount: 1 });
      await grouped.append([stored]);

      const shared = sampleEvent({ merchantId: 'm-group-2' });
      const a = [sampleEvent({ merchantId: 'm-group' }), shared];
      const b = [shared, sampleEvent({ merchantId: 'm-group-3' })];
      const c = [sampleEvent({ merchantId: 'm-group' }), sampleEvent({ eventId: stored.eventId, merchantId: 'm-group', amount: 2 })];
      const twin = sampleEvent({ merchantId: 'm-group-4' });
      const d = [twin];
      const e = [sampleEvent({ eventId: twin.eventId, merchantId: 'm-group-4', amount: 99 })];
      const f = [sampleEvent({ merchantId: 'm-group-5' })];

      const results = await Promise.allSettled([a, b, c, d, e, f].map((events) => grouped.append(events)));
      const answer = (i: number) => {
        const r = results[i];
        return r.status === 'fulfilled' ? { accepted: r.value.accepted, duplicates: r.value.duplicates } : (r.reason as EventConflictError).eventIds;
      };
      expect([0, 1, 2, 3, 4, 5].map(answer)).toEqual([
        { accepted: 2, duplicates: 0 },
        { accepted: 1, duplicates: 1 },
        [stored.eventId],
        { accepted: 1, duplicates: 0 },
        [twin.eventId],
        { accepted: 1, duplicates: 0 },
      ]);
      const ids = [a, b, c, d, e, f].flat().map((ev) => ev.eventId);
      const { rows } = await pool.query<{ event_id: string }>(`select event_id from event_store.events where event_id = any($1::uuid[])`, [ids]);
      const expected = new Set([...a, ...b, ...d, ...f, stored].map((ev) => ev.eventId));
      expect(new Set(rows.map((r) => r.event_id))).toEqual(expected);
      expect(rows.length).toBe(expected.size);
    });
  });

  describe('immutability, enforced by the database', () => {
    const statements = (table: string) => [
      `update ${table} set merchant_id = 'x'`,
      `delete from ${table}`,
      `truncate ${table}`,
    ];

    beforeAll(async () => {
      await store.append([sampleEvent({ merchantId: 'm-immutable' })]);
    });

    it.each([
      ['event_store.events'],
      [partitionTable(partitionOf('m-immutable', 16))],
    ])('refuses UPDATE, DELETE and TRUNCATE on %s for the owner', async (table) => {
      for (const statement of statements(table)) {
        await expect(pool.query(statement), statement).rejects.toThrow(/immutable/);
      }
      expect(await count(`select count(*) n from event_store.events where merchant_id = 'm-immutable'`)).toBe(1);
    });

    it('refuses UPDATE, DELETE and TRUNCATE on event_ids', async () => {
      for (const statement of [`update event_store.event_ids set body_hash = '\\x00'`, `delete from event_store.event_ids`, `truncate event_store.event_ids`]) {
        await expect(pool.query(statement), statement).rejects.toThrow(/immutable/);
      }
    });

    it('refuses them for the application role, which may only select and insert', async () => {
      const role = `app_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const password = randomUUID();
      await pool.query(`create role ${role} login password '${password}' in role payments_writer`);
      const url = new URL(database.url);
      url.username = role;
      url.password = password;
      const app = new pg.Client({ connectionString: url.toString() });
      await app.connect();
      const appPool = createPool({ connectionString: url.toString(), max: 2 });
      try {
        const appStore = new EventStore(appPool, 16);
        expect(await appStore.append([sampleEvent({ merchantId: 'm-immutable' })])).toMatchObject({ accepted: 1 });
        const idsBefore = await count(`select count(*) n from event_store.event_ids`);
        // The role's privileges refuse these before the triggers would (the owner tests prove the triggers).
        const refused: Array<[statement: string, table: string]> = [
          ...statements('event_store.events').map((statement): [string, string] => [statement, 'events']),
          ...statements(partitionTable(0)).map((statement): [string, string] => [statement, 'events_p00']),
          [`update event_store.event_ids set body_hash = '\\x00'`, 'event_ids'],
          [`delete from event_store.event_ids`, 'event_ids'],
          ['truncate event_store.event_ids', 'event_ids'],
        ];
        for (const [statement, table] of refused) {
          await expect(app.query(statement), statement).rejects.toThrow(`permission denied for table ${table}`);
        }
        expect(await count(`select count(*) n from event_store.events where merchant_id = 'm-immutable'`)).toBe(2);
        expect(await count(`select count(*) n from event_store.event_ids`)).toBe(idsBefore);
      } finally {
        await app.end();
        await appPool.end();
        await pool.query(`drop owned by ${role}`);
        await pool.query(`drop role ${role}`);
      }
    });
  });

  describe('gap safety', () => {
    it('a reader racing writers in separate processes reads every event exactly once, in position order', async () => {
      const merchants = Array.from({ length: 40 }, (_, i) => `m-race-${i}`);
      const heads = async () => {
        const { rows } = await pool.query<{ partition: number; head: string }>(`select partition, head from event_store.partition_heads order by partition`);
        return new Map(rows.map((r) => [r.partition, Number(r.head)]));
      };
      const before = await heads();
      // One store per writer, each on its own one-connection pool, as separate command API processes
      // are: no group commit merges their appends, so each append is its own transaction and
      // they race for the partition head locks.
      const application = `gap-writer-${randomUUID().slice(0, 8)}`;
      const writerPools = Array.from({ length: 12 }, () => createPool({ connectionString: database.url, max: 1, applicationName: application }));
      const writers = writerPools.map((writerPool) => new EventStore(writerPool, store.partitions, { maxConcurrentAppends: 1 }));
      const written = new Set<string>();
      const read: string[] = [];
      let writing = true;
      let readWhileWriting = 0;
      let mostOpenTransactions = 0;

      const writer = async (w: number) => {
        for (let round = 0; round < 25; round++) {
          const batch = Array.from({ length: 1 + ((w * 7 + round * 13) % 60) }, (_, i) =>
            sampleEvent({ merchantId: merchants[(w + round + i) % merchants.length] }),
          );
          expect(await writers[w]!.append(batch)).toEqual({ accepted: batch.length, duplicates: 0 });
          for (const e of batch) written.add(e.eventId);
        }
      };
      const reader = async () => {
        const checkpoints = new Map(before);
        const client = await pool.connect();
        try {
          for (;;) {
            const done = !writing;
            const { rows } = await client.query<{ n: string }>(
              `select count(*) n from pg_stat_activity where application_name = $1 and xact_start is not null`,
              [application],
            );
            mostOpenTransactions = Math.max(mostOpenTransactions, Number(rows[0]!.n));
            let progressed = false;
            for (let p = 0; p < store.partitions; p++) {
              for (const row of await readPartition(client, p, checkpoints.get(p)!, 50)) {
                // Position order with no gap: a skipped position would be an event read late or never.
                expect(row.position).toBe(checkpoints.get(p)! + 1);
                checkpoints.set(p, row.position);
                read.push((JSON.parse(row.payloadJson) as { eventId: string }).eventId);
                if (!done) readWhileWriting++;
                progressed = true;
              }
            }
            if (done && !progressed) return checkpoints;
          }
        } finally {
          client.release();
        }
      };

      try {
        const readerDone = reader();
        try {
          await Promise.all(writers.map((_, w) => writer(w)));
        } finally {
          writing = false;
        }
        const checkpoints = await readerDone;

        expect(read.length).toBe(written.size);
        expect(new Set(read)).toEqual(written);
        expect(checkpoints).toEqual(await heads());
        // The race really happened: the reader read while writers wrote, and more transactions were
        // open at once than one store's two concurrent appends could give.
        expect(readWhileWriting).toBeGreaterThan(0);
        expect(mostOpenTransactions).toBeGreaterThan(2);
      } finally {
        await Promise.all(writerPools.map((writerPool) => writerPool.end()));
      }
    });
  });
});
