/**
 * The one method the read model needs from a database connection. A pg.Pool,
 * a pg.PoolClient and PGlite (the in-process TimescaleDB build used by the
 * parity test) all satisfy it, so the same writer and reader run on both engines.
 * Use positional parameters only ($1, $2...): PGlite has no named statements.
 */
export interface SqlClient {
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}
