import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '@app/testing';
import { hashBytesExtended, partitionOf } from './partition-routing.js';

/** The oracle is PostgreSQL itself: its hash function and its own partition routing. */
describe('partition routing matches PostgreSQL', () => {
  let database: TestDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    database = await testDatabase();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  const keys = [
    '', 'a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg', 'abcdefgh', 'abcdefghi', 'abcdefghij',
    'abcdefghijk', 'abcdefghijkl', 'abcdefghijklm', 'm-1001', 'merchant:東京-店', 'ünïcödé', 'x'.repeat(64),
    ...Array.from({ length: 300 }, (_, i) => randomBytes(1 + (i % 40)).toString('base64url')),
  ];

  it('hashes text exactly like hashtextextended', async () => {
    const { rows } = await client.query<{ k: string; h: string }>(
      `select k, hashtextextended(k, 0)::text as h from unnest($1::text[]) k`,
      [keys],
    );
    for (const row of rows) {
      expect(BigInt.asIntN(64, hashBytesExtended(Buffer.from(row.k, 'utf8'), 0n)).toString(), row.k).toBe(row.h);
    }
  });

  it('routes merchants to the partition PostgreSQL stores them in', async () => {
    const { rows: setting } = await client.query<{ value: string }>(`select value from event_store.settings where key = 'partitions'`);
    const partitions = Number(setting[0].value);
    // satisfies_hash_partition is the predicate PostgreSQL itself uses for hash partition bounds.
    const { rows } = await client.query<{ k: string; p: number }>(
      `select k, (select r from generate_series(0, $2::int - 1) r
                  where satisfies_hash_partition('event_store.events'::regclass, $2::int, r, k)) as p
       from unnest($1::text[]) k`,
      [keys.filter((k) => k !== ''), partitions],
    );
    expect(rows.length).toBe(keys.length - 1);
    for (const row of rows) expect(partitionOf(row.k, partitions), row.k).toBe(row.p);
  });
});
