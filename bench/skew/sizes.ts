import type { SqlClient } from '@app/projections';
import { baselineIndexBytes } from './baseline-sql.js';

export interface TableSize {
  /** The table, its hash partitions taken together (metrics_daily for metrics_daily_p00…p15). */
  table: string;
  rows: number;
  /** pg_total_relation_size: heap, indexes, TOAST and free-space maps. */
  bytes: number;
}

export interface SchemaSize {
  tables: TableSize[];
  rows: number;
  bytes: number;
}

/** Every table of `schema` (exact row counts), partitions summed into their parent's name. */
export async function schemaSize(client: SqlClient, schema: string): Promise<SchemaSize> {
  const { rows: relations } = await client.query<{ name: string; bytes: string }>(
    `select c.relname as name, pg_total_relation_size(c.oid)::text as bytes
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relkind in ('r', 'm') order by c.relname`,
    [schema],
  );
  const byTable = new Map<string, TableSize>();
  for (const r of relations) {
    const { rows } = await client.query<{ n: string }>(`select count(*)::text as n from "${schema}"."${r.name}"`);
    const table = r.name.replace(/_p\d{2}$/, '');
    const size = byTable.get(table) ?? { table, rows: 0, bytes: 0 };
    size.rows += Number(rows[0].n);
    size.bytes += Number(r.bytes);
    byTable.set(table, size);
  }
  const tables = [...byTable.values()];
  return { tables, rows: tables.reduce((a, t) => a + t.rows, 0), bytes: tables.reduce((a, t) => a + t.bytes, 0) };
}

/** The event store's bytes (events with their position indexes, event_ids, heads), without the baseline's index. */
export async function storeSize(client: SqlClient): Promise<SchemaSize> {
  const size = await schemaSize(client, 'event_store');
  const index = await baselineIndexBytes(client).catch(() => 0);
  const events = size.tables.find((t) => t.table === 'events');
  if (events) events.bytes -= index;
  return { ...size, bytes: size.bytes - index };
}
