import type pg from 'pg';
import type { PositionedEvent } from './payment-event.json.js';
import type { SqlClient } from './sql-client.js';

/** The engine a version's tables are made for: TimescaleDB, or plain PostgreSQL. */
export type ReadModelEngine = 'postgres' | 'timescaledb';

/** One version of one projection, where it lives. */
export interface VersionTarget {
  projection: string;
  version: number;
  /** The version's own schema (schemaNameFor): its tables, nothing else. */
  schemaName: string;
  engine: ReadModelEngine;
}

/** What a running projector lends a version for its life in the process. */
export interface VersionResources {
  /** Bytes the version may keep between batches (caches); 0: keep nothing. */
  cacheBytes: number;
  /** Least time between two runs of `maintain` that do work (default: the definition's own). */
  maintenanceMs?: number;
}

/**
 * One version of a projection running in a process: a projector's partition
 * workers call `apply` for every batch, a rebuild without a set-based fold
 * for every chunk it reads from the store.
 */
export interface VersionRuntime {
  /**
   * Applies a partition's events after `checkpoint` in transactions that
   * also move the checkpoint (advanceCheckpoint), so each event lands exactly
   * once; events at or below `checkpoint` are skipped. `events` are in
   * position order, `client` one connection. Returns the new checkpoint.
   */
  apply(client: SqlClient, partition: number, checkpoint: number, events: readonly PositionedEvent[]): Promise<number>;
  /**
   * Work beside the batches, for the partitions this process owns, called
   * about once a second and never twice at a time (merchant-metrics
   * materializes rollups of finished days). Ends early when `shouldStop`.
   */
  maintain?(pool: pg.Pool, partitions: readonly number[], shouldStop: () => boolean, log: (message: string) => void): Promise<void>;
}

/**
 * A rebuild's set-based fold: a chunk of a partition folded inside
 * PostgreSQL, committed with its checkpoint. A definition without one is
 * rebuilt by reading the store in chunks and applying them with its runtime.
 */
export interface BulkFold {
  /**
   * Folds the partition's events after `from`, at most `maxEvents`, in one
   * transaction with the checkpoint; with `buildKeys`, the first chunk of a
   * fresh version also builds its partition's keys.
   */
  foldChunk(
    client: pg.PoolClient, target: VersionTarget, partition: number,
    options: { from: number; maxEvents: number; buildKeys: boolean },
  ): Promise<{ events: number }>;
  /** False while a fresh version's tables still lack the keys their creation deferred. */
  hasKeys(client: SqlClient, target: VersionTarget): Promise<boolean>;
  /** Adds the deferred keys (safe to rerun), shared over `clients`. */
  addKeys(clients: readonly SqlClient[], target: VersionTarget): Promise<void>;
  /** Whether first chunks may build their partition's keys, given the store's partition count. */
  keysPerPartition(eventStorePartitions: number): boolean;
}

export interface DiffFilter {
  merchantId?: string;
  from?: Date;
  to?: Date;
  /** Most differing rows listed (all are counted). */
  limit?: number;
}

/** One row that differs between two versions, by its key. */
export interface RowDifference {
  /** Column → value, the row's identity. */
  key: Record<string, string>;
  /** Field → [value in the first version, value in the second]; only fields that differ. */
  fields: Record<string, [string, string]>;
}

export interface VersionDiff {
  /** What a row is, plural, for the operator ('cells', 'payments'). */
  unit: string;
  /** Rows that differ (a row missing on one side differs from every non-zero row). */
  rows: number;
  merchants: number;
  listed: RowDifference[];
}

/**
 * A projection: its name, the versions this code can build, their tables,
 * the per-batch apply, and how to rebuild and compare versions. Everything
 * that is the same for every projection — the registry, leases,
 * checkpoints, the projector's workers, rebuild, diff, promote, rollback,
 * drop, `projections list`, the analysts' views following the live version —
 * works from this and nothing else (the idea of Emmett's projection definitions).
 */
export interface ProjectionDefinition {
  /** Lower-case words joined by '-': it names the version schemas (schemaNameFor) and JetStream consumers. */
  readonly name: string;
  /** The version a new installation's projectors build. */
  readonly defaultVersion: number;
  /** Every version this code can project, ascending. */
  versions(): readonly number[];
  /** What a version changed, for `projections list` and the docs. */
  describe(version: number): string;
  /**
   * Creates a version's tables in its schema, which exists (createVersionSchema),
   * inside the transaction that registers the version. `deferKeys`: a rebuild
   * bulk-loads and adds the keys afterwards (BulkFold.addKeys).
   */
  createTables(client: SqlClient, target: VersionTarget & { partitions: number; deferKeys: boolean }): Promise<void>;
  /** The version's runtime in this process. */
  open(target: VersionTarget, resources: VersionResources): VersionRuntime;
  /** Set-based rebuild; absent: rebuilt through `open(...).apply`. */
  readonly bulkFold?: BulkFold;
  /** Compares two versions' tables row by row (ops projections diff). */
  diff(client: SqlClient, from: VersionTarget, to: VersionTarget, filter: DiffFilter): Promise<VersionDiff>;
}

/** The projection name is not one this code knows. */
export class UnknownProjectionError extends Error {
  override readonly name = 'UnknownProjectionError';
}

/** The registered definitions, by name: what the projector runs and the ops CLI manages. */
export class ProjectionCatalog {
  private readonly byName: ReadonlyMap<string, ProjectionDefinition>;

  constructor(definitions: readonly ProjectionDefinition[]) {
    const byName = new Map<string, ProjectionDefinition>();
    for (const d of definitions) {
      if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(d.name)) throw new Error(`invalid projection name "${d.name}"`);
      if (byName.has(d.name)) throw new Error(`projection "${d.name}" is registered twice`);
      if (!d.versions().includes(d.defaultVersion)) throw new Error(`projection "${d.name}" has no default version ${d.defaultVersion}`);
      byName.set(d.name, d);
    }
    this.byName = byName;
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  all(): ProjectionDefinition[] {
    return [...this.byName.values()];
  }

  find(name: string): ProjectionDefinition | undefined {
    return this.byName.get(name);
  }

  get(name: string): ProjectionDefinition {
    const definition = this.byName.get(name);
    if (!definition) throw new UnknownProjectionError(`unknown projection "${name}" (known: ${this.names.join(', ')})`);
    return definition;
  }

  /** Refuses a version the definition's code cannot build, before anything is created. */
  assertVersion(name: string, version: number): ProjectionDefinition {
    const definition = this.get(name);
    if (!definition.versions().includes(version)) {
      throw new UnknownProjectionError(`${name} has no version ${version} (known: ${definition.versions().join(', ')})`);
    }
    return definition;
  }
}
