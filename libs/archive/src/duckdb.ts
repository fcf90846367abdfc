import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export interface DuckDB {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  close(): void;
}

/**
 * A DuckDB of the archive's own. Parquet and JSON are built into the
 * package's binaries; nothing is installed or loaded from the network. Its
 * threads and memory are bounded, since it shares the machine with
 * PostgreSQL, and its session is UTC.
 */
export async function openDuckDB(path = ':memory:', limits: { threads?: number; memoryMb?: number } = {}): Promise<DuckDB> {
  const instance = await DuckDBInstance.create(path, {
    threads: String(limits.threads ?? 2),
    memory_limit: `${limits.memoryMb ?? 512}MB`,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  await connection.run(`set TimeZone = 'UTC'`);
  return {
    instance,
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** A string as a DuckDB SQL literal. */
export function sqlText(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A list of files as read_parquet's argument. */
export function parquetFiles(paths: string[]): string {
  return `read_parquet([${paths.map(sqlText).join(', ')}])`;
}
