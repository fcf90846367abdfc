import { decodeSketchesSql, foldSketchesSql } from '@app/sketches';
import { MEASURE_COLUMNS } from '../schema/measures.js';
import { UTC_EPOCH } from '../schema/read-model-tables.js';
import { SKETCH_TABLES, sketchKey, sketchTableColumnList, type SketchTable } from '../schema/sketch-tables.js';
import type { SqlClient } from '../sql-client.js';

/** The key columns of `table` computed from a 15-minute relation's columns (bucket moved onto the table's grain). */
function keyExpressions(table: SketchTable): string {
  const bucket = table.grain === '15 minutes' ? 'bucket' : `date_bin('${table.grain}', bucket, ${UTC_EPOCH}) as bucket`;
  return ['merchant_id', bucket, ...table.dimensions].join(', ');
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
    await client.query(
      `create temp table rebuild_rows on commit drop as
       select ${keyExpressions(table)}, ${MEASURE_COLUMNS.map((m) => `sum(${m})::bigint as ${m}`).join(', ')}
       from rebuild_cells group by ${groupBy}`,
    );
    await client.query(
      `create temp table rebuild_hashes on commit drop as
       select distinct ${keyExpressions(table)}, hash from rebuild_events where kind = 'c'`,
    );
    let registers: string | undefined;
    if (!fresh) {
      const stored = `(select ${key.map((c) => `x.${c}`).join(', ')}, x.customers from ${schema}.${table.name} x
                       join rebuild_rows r using (${keyList}) where x.customers is not null)`;
      const decoded = decodeSketchesSql({ key, source: stored, column: 'customers' });
      await client.query(`insert into rebuild_hashes (${keyList}, hash) ${decoded.hashes}`);
      registers = `(${decoded.registers})`;
    }
    const sketches = foldSketchesSql({ key, hashes: 'rebuild_hashes', registers });
    const columns = sketchTableColumnList(table);
    const measures = MEASURE_COLUMNS.map((m) => `${m} = t.${m} + excluded.${m}`).join(', ');
    await client.query(
      `insert into ${schema}.${table.name} as t (${columns.join(', ')})
       select ${key.map((c) => `r.${c}`).join(', ')}, ${MEASURE_COLUMNS.map((m) => `r.${m}`).join(', ')}, k.sketch
       from rebuild_rows r left join (${sketches}) k using (${keyList})
       ${fresh ? '' : `on conflict (${keyList}) do update set ${measures}, customers = coalesce(excluded.customers, t.customers)`}`,
    );
    await client.query('drop table rebuild_rows');
    await client.query('drop table rebuild_hashes');
  }
}
