import { decodeSketchesSql, EXPLICIT_MAX, foldSketchesSql } from '@app/sketches';
import { MEASURE_COLUMNS } from '../schema/measures.js';
import { UTC_EPOCH } from '../schema/read-model-tables.js';
import { SKETCH_TABLES, sketchKey, sketchTableColumnList, type SketchTable } from '../schema/sketch-tables.js';
import type { SqlClient } from '@app/projections';

/** The key columns of `table` computed from a finer relation's columns (bucket moved onto the table's grain). */
function keyExpressions(table: SketchTable): string {
  const bucket = table.grain === '15 minutes' ? 'bucket' : `date_bin('${table.grain}', bucket, ${UTC_EPOCH}) as bucket`;
  return ['merchant_id', bucket, ...table.dimensions].join(', ');
}

/**
 * The table each table's chunk rows and hashes are rolled up from (same or
 * finer grain, the same or more dimensions): each step reads fewer rows than
 * the chunk's events. metrics_15m's come from the chunk itself.
 */
const FINER: Record<string, string | undefined> = {
  metrics_hourly: 'metrics_15m',
  metrics_daily: 'metrics_hourly',
  methods_hourly: 'metrics_hourly',
  methods_daily: 'methods_hourly',
  stores_hourly: 'metrics_hourly',
  stores_daily: 'stores_hourly',
  totals_hourly: 'methods_hourly',
  totals_daily: 'totals_hourly',
};

/**
 * The sketches of a fresh chunk's rows: most keys have a few customers
 * (explicit form, doc 0008), whose sketch is one ordered string_agg of their
 * hashes; only the keys past EXPLICIT_MAX go through the general fold with
 * its register arithmetic. Both give the bytes the TypeScript encoder gives.
 */
function freshSketchesSql(key: string[], hashes: string): string {
  const keyList = key.join(', ');
  return `with counted as (
      select ${keyList}, count(*) as n, decode('01', 'hex') || string_agg(int8send(hash), ''::bytea order by hash) as sketch
      from ${hashes} group by ${keyList}
    )
    select ${keyList}, sketch from counted where n <= ${EXPLICIT_MAX}
    union all
    select * from (${foldSketchesSql({
      key,
      hashes: `(select ${key.map((c) => `h.${c}`).join(', ')}, h.hash from ${hashes} h join counted c using (${keyList}) where c.n > ${EXPLICIT_MAX})`,
    })}) big`;
}

/**
 * The sketches layout's part of a rebuild chunk (bulk-fold.ts): from the
 * chunk's temp tables `rebuild_cells` (15-minute sums) and `rebuild_events`
 * (with each completed payment's customer `hash`), every v3 table's rows,
 * set-based: sums rolled up onto the table's grain and dimensions, sketches
 * folded from the distinct (row, customer hash) pairs by the SQL twin of the
 * projector's TypeScript (libs/sketches), which builds the same bytes.
 *
 * From zero (`fresh`) the partition's rows do not exist yet: plain INSERTs.
 * Later chunks merge into existing rows: the stored sketches of the rows the
 * chunk touches are decoded back into hashes and registers and folded with
 * the chunk's hashes, and sums are added.
 */
export async function foldSketchTables(client: SqlClient, schema: string, fresh: boolean): Promise<void> {
  for (const table of SKETCH_TABLES) {
    const key = sketchKey(table);
    const keyList = key.join(', ');
    const groupBy = key.map((_, i) => i + 1).join(', ');
    const parent = FINER[table.name];
    // metrics_15m's rows are the chunk's cells themselves.
    const rows = parent === undefined ? 'rebuild_cells' : `rebuild_rows_${table.name}`;
    const chunkHashes = `rebuild_hashes_${table.name}`;
    if (parent !== undefined) {
      await client.query(
        `create temp table ${rows} on commit drop as
         select ${keyExpressions(table)}, ${MEASURE_COLUMNS.map((m) => `sum(${m})::bigint as ${m}`).join(', ')}
         from ${FINER[parent] === undefined ? 'rebuild_cells' : `rebuild_rows_${parent}`} group by ${groupBy}`,
      );
    }
    await client.query(
      `create temp table ${chunkHashes} on commit drop as
       select distinct ${keyExpressions(table)}, hash
       from ${parent === undefined ? `rebuild_events where kind = 'c'` : `rebuild_hashes_${parent}`}`,
    );
    let sketches: string;
    if (fresh) {
      sketches = freshSketchesSql(key, chunkHashes);
    } else {
      const stored = `(select ${key.map((c) => `x.${c}`).join(', ')}, x.customers from ${schema}.${table.name} x
                       join ${rows} r using (${keyList}) where x.customers is not null)`;
      const decoded = decodeSketchesSql({ key, source: stored, column: 'customers' });
      sketches = foldSketchesSql({
        key,
        hashes: `(select ${keyList}, hash from ${chunkHashes} union all ${decoded.hashes})`,
        registers: `(${decoded.registers})`,
      });
    }
    const columns = sketchTableColumnList(table);
    const measures = MEASURE_COLUMNS.map((m) => `${m} = t.${m} + excluded.${m}`).join(', ');
    await client.query(
      `insert into ${schema}.${table.name} as t (${columns.join(', ')})
       select ${key.map((c) => `r.${c}`).join(', ')}, ${MEASURE_COLUMNS.map((m) => `r.${m}`).join(', ')}, k.sketch
       from ${rows} r left join (${sketches}) k using (${keyList})
       ${fresh ? '' : `on conflict (${keyList}) do update set ${measures}, customers = coalesce(excluded.customers, t.customers)`}`,
    );
  }
  for (const table of SKETCH_TABLES) {
    await client.query(`drop table ${FINER[table.name] === undefined ? '' : `rebuild_rows_${table.name}, `}rebuild_hashes_${table.name}`);
  }
}
