import type { ProjectionDefinition, ReadModelEngine } from './definition.js';
import type { SqlClient } from './sql-client.js';
import { createVersionSchema, grantVersionTables, schemaNameFor } from './version-schema.js';

export type VersionStatus = 'building' | 'catching_up' | 'live' | 'retired';

export interface ProjectionVersion {
  projection: string;
  version: number;
  schemaName: string;
  engine: ReadModelEngine;
  status: VersionStatus;
  codeRevision: string;
  startedAt: Date;
  finishedAt: Date | null;
}

/** The engine the registry migration detected (TimescaleDB or plain PostgreSQL). */
export async function readEngine(client: SqlClient): Promise<ReadModelEngine> {
  const { rows } = await client.query<{ value: string }>(`select value from projections.settings where key = 'engine'`);
  const value = rows[0]?.value;
  if (value !== 'postgres' && value !== 'timescaledb') throw new Error(`projections.settings has no valid engine (${value})`);
  return value;
}

interface VersionRow {
  projection: string;
  version: number;
  schema_name: string;
  engine: ReadModelEngine;
  status: VersionStatus;
  code_revision: string;
  started_at: Date;
  finished_at: Date | null;
}

function toVersion(r: VersionRow): ProjectionVersion {
  return {
    projection: r.projection,
    version: r.version,
    schemaName: r.schema_name,
    engine: r.engine,
    status: r.status,
    codeRevision: r.code_revision,
    startedAt: new Date(r.started_at),
    finishedAt: r.finished_at === null ? null : new Date(r.finished_at),
  };
}

export async function findVersion(client: SqlClient, projection: string, version: number): Promise<ProjectionVersion | undefined> {
  const { rows } = await client.query<VersionRow>(
    `select * from projections.versions where projection = $1 and version = $2`,
    [projection, version],
  );
  return rows[0] ? toVersion(rows[0]) : undefined;
}

export async function listVersions(client: SqlClient, projection?: string): Promise<ProjectionVersion[]> {
  const { rows } = await client.query<VersionRow>(
    `select * from projections.versions where $1::text is null or projection = $1 order by projection, version`,
    [projection ?? null],
  );
  return rows.map(toVersion);
}

/**
 * Registers a version and creates its schema, tables and zeroed checkpoints,
 * all in one transaction (PostgreSQL DDL is transactional), so a crash leaves
 * either nothing or a complete, empty version. `client` must be a single connection.
 */
export async function installVersion(
  client: SqlClient,
  definition: ProjectionDefinition,
  options: {
    version: number; partitions: number; codeRevision: string; engine?: ReadModelEngine;
    /** Keys added later by the definition's BulkFold.addKeys (a rebuild's bulk load). */
    deferKeys?: boolean;
  },
): Promise<ProjectionVersion> {
  const projection = definition.name;
  const engine = options.engine ?? (await readEngine(client));
  const schemaName = schemaNameFor(projection, options.version);
  await client.query('begin');
  try {
    await client.query(
      `insert into projections.versions (projection, version, schema_name, engine, status, code_revision)
       values ($1, $2, $3, $4, 'building', $5)`,
      [projection, options.version, schemaName, engine, options.codeRevision],
    );
    await client.query(
      `insert into projections.checkpoints (projection, version, partition)
       select $1, $2, p from generate_series(0, $3::int - 1) as p`,
      [projection, options.version, options.partitions],
    );
    await createVersionSchema(client, schemaName);
    await definition.createTables(client, {
      projection, version: options.version, schemaName, engine, partitions: options.partitions, deferKeys: options.deferKeys ?? false,
    });
    await grantVersionTables(client, schemaName);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
  const installed = await findVersion(client, projection, options.version);
  if (!installed) throw new Error(`version ${options.version} vanished after install`);
  return installed;
}

export async function setStatus(client: SqlClient, projection: string, version: number, status: VersionStatus): Promise<void> {
  await client.query(
    `update projections.versions set status = $3,
       finished_at = case when $3 in ('catching_up', 'live') then coalesce(finished_at, now()) else finished_at end
     where projection = $1 and version = $2`,
    [projection, version, status],
  );
}

/** Moves a version from one status to the next only if it still has the first (no lost update against promote). */
export async function advanceStatus(
  client: SqlClient, projection: string, version: number, from: VersionStatus, to: VersionStatus,
): Promise<boolean> {
  const { rows } = await client.query(
    `update projections.versions set status = $4,
       finished_at = case when $4 in ('catching_up', 'live') then coalesce(finished_at, now()) else finished_at end
     where projection = $1 and version = $2 and status = $3 returning version`,
    [projection, version, from, to],
  );
  return rows.length > 0;
}

export interface LiveVersion {
  version: number;
  schemaName: string;
  previousVersion: number | null;
}

export async function readLive(client: SqlClient, projection: string): Promise<LiveVersion | undefined> {
  const { rows } = await client.query<{ version: number; schema_name: string; previous_version: number | null }>(
    `select l.version, v.schema_name, l.previous_version
     from projections.live l join projections.versions v using (projection, version)
     where l.projection = $1`,
    [projection],
  );
  const r = rows[0];
  return r ? { version: r.version, schemaName: r.schema_name, previousVersion: r.previous_version } : undefined;
}

/**
 * Makes the first version of a projection live once it has caught up. Later
 * versions go live only through the operator's promote command.
 */
export async function goLiveIfFirst(client: SqlClient, projection: string, version: number): Promise<boolean> {
  const { rows } = await client.query(
    `with claimed as (
       insert into projections.live (projection, version) values ($1, $2)
       on conflict (projection) do nothing returning version)
     update projections.versions set status = 'live', finished_at = coalesce(finished_at, now())
     where projection = $1 and version = $2 and exists (select 1 from claimed)
     returning version`,
    [projection, version],
  );
  return rows.length > 0;
}
