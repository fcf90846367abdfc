import { customerHashWords, SketchAccumulator, type HashWords } from '@app/sketches';
import { MEASURES } from '../schema/measures.js';
import type { ReadModelEngine } from '@app/projections';
import { SKETCH_TABLES, sketchTableColumnList, type SketchTable } from '../schema/sketch-tables.js';
import type { SqlClient } from '@app/projections';
import type { MetricCell, MetricsDelta } from './metrics-delta.js';
import type { SketchCache, StagedSketches } from './sketch-cache.js';
import { insertPayments } from './metrics-writer.js';
import { hexArray, iso, numberArray, textArray } from './sql-arrays.js';

const GRAIN_MS: Record<SketchTable['grain'], number> = { '15 minutes': 900_000, '1 hour': 3_600_000, '1 day': 86_400_000 };
const SEP = '\u0000';

/** One row of one sketch table that a batch changes: its key, the sums to add, the customers to merge in. */
interface Row {
  /** Its key in the table's map (merchant, bucket, dimensions), and in the sketch cache after the table's index. */
  key: string;
  merchantId: string;
  bucket: number;
  /** Values of the table's dimensions, in its key order. */
  dimensions: string[];
  sums: MetricCell;
  /** The new customers' hashes as (top word, low word) pairs; null when none. */
  customers: number[] | null;
  /** The merged sketch to store; null keeps the stored one (no new customer). */
  sketch: Uint8Array | null;
}

const DIMENSION_FIELD: Record<string, 'currency' | 'paymentMethod' | 'storeId'> = {
  currency: 'currency', payment_method: 'paymentMethod', store_id: 'storeId',
};

function floorTo(ms: number, width: number): number {
  return ms - (((ms % width) + width) % width);
}

function addMeasures(into: MetricCell, from: MetricCell): void {
  const target = into as unknown as Record<string, number | bigint>;
  const source = from as unknown as Record<string, number | bigint>;
  for (const m of MEASURES) {
    target[m.field] = m.bigint ? (target[m.field] as bigint) + (source[m.field] as bigint) : (target[m.field] as number) + (source[m.field] as number);
  }
}

type CellFields = Pick<MetricCell, 'merchantId' | 'bucket' | 'currency' | 'paymentMethod' | 'storeId'>;

const cellKey = (c: CellFields) => c.merchantId + SEP + c.bucket + SEP + c.currency + SEP + c.paymentMethod + SEP + c.storeId;

/**
 * The batch's delta, rolled up onto each sketch table's grain and dimensions.
 * Each 15-minute cell finds its row of every table once, and each customer
 * is hashed once, however many tables count it: this is the projector's
 * inner loop for a large merchant (thousands of customers a batch).
 */
function rowsOf(delta: MetricsDelta): Map<string, Row>[] {
  const tables = SKETCH_TABLES.map((table) => ({
    width: GRAIN_MS[table.grain],
    fields: table.dimensions.map((d) => DIMENSION_FIELD[d]),
    rows: new Map<string, Row>(),
  }));
  const rowsFor = (c: CellFields): Row[] => tables.map(({ width, fields, rows }) => {
    const bucket = floorTo(c.bucket, width);
    const dimensions = fields.map((f) => c[f]);
    const key = c.merchantId + SEP + bucket + SEP + dimensions.join(SEP);
    let row = rows.get(key);
    if (row === undefined) {
      row = {
        key, merchantId: c.merchantId, bucket, dimensions, customers: null, sketch: null,
        sums: { ...c, bucket, completedCount: 0, grossAmount: 0n, refundCount: 0, refundAmount: 0n, failedCount: 0 },
      };
      rows.set(key, row);
    }
    return row;
  });
  const byCell = new Map<string, Row[]>();
  const cellRows = (c: CellFields): Row[] => {
    const key = cellKey(c);
    let rows = byCell.get(key);
    if (rows === undefined) byCell.set(key, (rows = rowsFor(c)));
    return rows;
  };
  for (const cell of delta.cells.values()) for (const row of cellRows(cell)) addMeasures(row.sums, cell);
  const words: HashWords = { hi: 0, lo: 0 };
  for (const customer of delta.customers.values()) {
    customerHashWords(customer.customerId, words);
    for (const row of cellRows(customer)) (row.customers ??= []).push(words.hi, words.lo);
  }
  return tables.map((t) => t.rows);
}

/** A relation of the rows' keys with their ordinality `n`, from array parameters starting at $`first`. */
function keysInput(table: SketchTable, first: number): string {
  const types = ['text', 'timestamptz', ...table.dimensions.map(() => 'text')];
  const params = types.map((type, k) => `$${first + k}::${type}[]`).join(', ');
  return `unnest(${params}) with ordinality as u(merchant_id, bucket, ${table.dimensions.join(', ')}, n)`;
}

function keyParams(table: SketchTable, rows: readonly Row[]): string[] {
  return [
    textArray(rows, (r) => r.merchantId),
    textArray(rows, (r) => iso(r.bucket)),
    ...table.dimensions.map((_, d) => textArray(rows, (r) => r.dimensions[d])),
  ];
}

/** The cache's key of a row of the `t`-th sketch table. */
const cacheKey = (t: number, row: Row) => t + SEP + row.key;

/** Where a batch finds the sketches its partition committed last, and leaves the ones it writes. */
export interface BatchSketches {
  cache: SketchCache;
  staged: StagedSketches;
}

/**
 * Reads the stored sketches of the rows that get new customers (one
 * statement for every table, only for rows the cache does not hold), and
 * merges each with its new customers in memory. The batch holds its
 * partition's checkpoint row, and partitions hold disjoint merchants, so no
 * other writer changes these rows before the batch commits. A merged sketch
 * equal to the stored one is not written again (a dense sketch often gains
 * no register), so its row keeps its stored value.
 */
async function mergeSketches(client: SqlClient, schema: string, tables: Row[][], cached?: BatchSketches): Promise<void> {
  const parts: string[] = [];
  const values: unknown[] = [];
  const pending: Row[][] = tables.map((rows) => rows.filter((r) => r.customers !== null));
  const stored = pending.map(() => new Map<number, Uint8Array>());
  // Per table, the indexes (in `pending`) of the rows the cache does not hold: those are read.
  const unread = pending.map((rows, t) => rows.flatMap((row, i) => {
    const hit = cached?.cache.get(cacheKey(t, row));
    if (hit === undefined) return [i];
    stored[t].set(i, hit);
    return [];
  }));
  unread.forEach((indexes, t) => {
    if (indexes.length === 0) return;
    const table = SKETCH_TABLES[t];
    const key = ['merchant_id', 'bucket', ...table.dimensions].join(', ');
    parts.push(`select ${t} as t, u.n, x.customers from ${keysInput(table, values.length + 1)}
                join ${schema}.${table.name} x using (${key}) where x.customers is not null`);
    values.push(...keyParams(table, indexes.map((i) => pending[t][i])));
  });
  if (parts.length > 0) {
    const { rows } = await client.query<{ t: number; n: string | number; customers: Uint8Array }>(parts.join(' union all '), values);
    for (const r of rows) stored[Number(r.t)].set(unread[Number(r.t)][Number(r.n) - 1], r.customers);
  }
  const sketch = new SketchAccumulator();
  pending.forEach((rows, t) => {
    rows.forEach((row, i) => {
      const before = stored[t].get(i) ?? null;
      sketch.reset();
      sketch.addEncoded(before);
      const hashes = row.customers!;
      for (let h = 0; h < hashes.length; h += 2) sketch.addHashWords(hashes[h], hashes[h + 1]);
      const merged = sketch.encode()!;
      row.sketch = before !== null && Buffer.from(before.buffer, before.byteOffset, before.byteLength).equals(merged) ? null : merged;
      // Kept for the next batch only once a row is written a second time: most rows of small merchants never are,
      // and the rows a large merchant's batches keep rewriting (its current hour and day) are from their second batch on.
      if (before !== null) cached?.staged.entries.push([cacheKey(t, row), merged]);
    });
  });
}

/** INSERT … ON CONFLICT of a table's rows from array parameters starting at $`first`: sums add up, a new sketch replaces the old. */
function upsertSql(schema: string, table: SketchTable, first: number): string {
  const columns = sketchTableColumnList(table);
  const key = ['merchant_id', 'bucket', ...table.dimensions];
  const types = ['text', 'timestamptz', ...table.dimensions.map(() => 'text'), ...MEASURES.map(() => 'bigint'), 'text'];
  const params = types.map((type, k) => `$${first + k}::${type}[]`).join(', ');
  const select = columns.map((c) => (c === 'customers' ? `decode(u.customers, 'hex')` : `u.${c}`)).join(', ');
  return `insert into ${schema}.${table.name} as t (${columns.join(', ')})
          select ${select} from unnest(${params}) as u(${columns.join(', ')})
          on conflict (${key.join(', ')}) do update set
            ${MEASURES.map((m) => `${m.column} = t.${m.column} + excluded.${m.column}`).join(', ')},
            customers = coalesce(excluded.customers, t.customers)`;
}

function upsertParams(table: SketchTable, rows: readonly Row[]): string[] {
  return [
    ...keyParams(table, rows),
    ...MEASURES.map((m) => numberArray(rows, (r) => r.sums[m.field])),
    hexArray(rows, (r) => r.sketch),
  ];
}

/**
 * Adds a batch's delta to a `sketches`-layout version (v3): every table's rows
 * (15-minute, hourly and daily, with and without dimensions) get the batch's
 * sums added and its customers merged into their sketches. On PostgreSQL all
 * tables are written by one statement (one round trip); PGlite's TimescaleDB
 * takes one per table. Call inside the transaction that advances the
 * partition's checkpoint, after that. With `cached`, stored sketches are
 * taken from the cache where it has them, and the sketches the batch leaves
 * in rows that already had one are staged for the cache (committed to it
 * only after COMMIT).
 */
export async function writeSketchDelta(
  client: SqlClient,
  schema: string,
  engine: ReadModelEngine,
  delta: MetricsDelta,
  cached?: BatchSketches,
): Promise<void> {
  const tables = rowsOf(delta).map((rows) => [...rows.values()]);
  await mergeSketches(client, schema, tables, cached);
  // Each table's parameters are built once (long array literals); only the statements' numbering differs.
  const writes = tables.flatMap((rows, t) => (rows.length === 0 ? [] : [{ table: SKETCH_TABLES[t], values: upsertParams(SKETCH_TABLES[t], rows) }]));
  if (engine === 'postgres' && writes.length > 1) {
    // One statement: each table's upsert a CTE of it, parameters numbered on.
    const values: string[] = [];
    const parts = writes.map((w) => {
      const sql = upsertSql(schema, w.table, values.length + 1);
      values.push(...w.values);
      return sql;
    });
    const last = parts.pop()!;
    await client.query(`with ${parts.map((p, k) => `w${k} as (${p})`).join(', ')} ${last}`, values);
  } else {
    for (const w of writes) await client.query(upsertSql(schema, w.table, 1), w.values);
  }
  await insertPayments(client, `${schema}.payments`, [...delta.payments.values()]);
}
