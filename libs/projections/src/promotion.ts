import { oldestWaitingAge, readPartitionProgress } from './checkpoints.js';
import type { SqlClient } from './sql-client.js';
import { findVersion, listVersions, type ProjectionVersion } from './registry.js';
import { dropVersionSchema } from './version-schema.js';

/** An operator's request that would break the read side: refused, and nothing changed. */
export class PromotionRefusedError extends Error {
  override readonly name = 'PromotionRefusedError';
}

/** How far one version is behind the event store. */
export interface VersionLag {
  /** Events stored but not yet applied, summed over partitions. */
  events: number;
  /** Age of the oldest event not yet applied, in seconds; 0 when caught up. */
  seconds: number;
  /** Partitions with events not yet applied. */
  partitionsBehind: number;
  /** Events in the store, summed over partitions (their heads: positions are gapless from 1). */
  storedEvents: number;
}

export const DEFAULT_MAX_LAG_SECONDS = 5;
/**
 * How long promote, rollback and drop wait for the locks they need. Replacing a
 * view waits for queries running on it: without a limit, one long analyst
 * query would hold the switch (and the live row) and queue every later reader.
 */
const LOCK_TIMEOUT = '10s';

/**
 * The version's lag from the event store's heads. Positions are gapless and
 * committed in order, so the event at checkpoint + 1 is the oldest one not yet
 * applied; its recorded_at gives the lag in time (database clock only).
 */
export async function measureLag(client: SqlClient, projection: string, version: number): Promise<VersionLag> {
  const progress = await readPartitionProgress(client, projection, version);
  const behind = progress.filter((p) => p.checkpoint < p.head);
  let events = 0;
  let seconds = 0;
  for (const p of behind) {
    events += p.head - p.checkpoint;
    // Absent although the head is past it: never expected with gapless positions; count it as infinitely late.
    seconds = Math.max(seconds, (await oldestWaitingAge(client, p.partition, p.checkpoint)) ?? Infinity);
  }
  return { events, seconds, partitionsBehind: behind.length, storedEvents: progress.reduce((sum, p) => sum + p.head, 0) };
}

/**
 * Promote's rule for a version that may serve: every partition at its head,
 * or its oldest unapplied event younger than maxLagSeconds (under steady
 * ingest a following version is never exactly at the heads).
 */
export function isCaughtUp(lag: VersionLag, maxLagSeconds: number): boolean {
  return lag.partitionsBehind === 0 || lag.seconds < maxLagSeconds;
}

async function assertCaughtUp(client: SqlClient, projection: string, version: number, maxLagSeconds: number): Promise<void> {
  const lag = await measureLag(client, projection, version);
  if (isCaughtUp(lag, maxLagSeconds)) return;
  const age = Number.isFinite(lag.seconds) ? `${lag.seconds.toFixed(1)} s old` : 'missing from the store';
  throw new PromotionRefusedError(
    `${projection} v${version} has not caught up: ${lag.events} events in ${lag.partitionsBehind} partitions not applied yet, ` +
      `the oldest ${age} (limit ${maxLagSeconds} s); let its projector run and retry`,
  );
}

/** Runs `work` in one transaction on `client`, which must be a single connection. */
async function inTransaction<T>(client: SqlClient, work: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    await client.query(`set local lock_timeout = '${LOCK_TIMEOUT}'`);
    const result = await work();
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    if ((error as { code?: string }).code === '55P03') {
      throw new PromotionRefusedError(
        `could not take the locks within ${LOCK_TIMEOUT} (a long query on the analytics views?); nothing changed, retry`,
      );
    }
    throw error;
  }
}

/** The live row, locked until the transaction ends, so concurrent switches queue instead of interleaving. */
async function lockLive(client: SqlClient, projection: string): Promise<{ version: number; previousVersion: number | null } | undefined> {
  const { rows } = await client.query<{ version: number; previous_version: number | null }>(
    `select version, previous_version from projections.live where projection = $1 for update`,
    [projection],
  );
  const row = rows[0];
  return row ? { version: row.version, previousVersion: row.previous_version } : undefined;
}

/**
 * Points the live row at `version` and sets the statuses, in the caller's
 * transaction. The analytics views follow through the trigger on
 * projections.live. The version switched away from is `retired`: not live,
 * tables kept, so that rollback can return to it until it is dropped.
 */
async function switchLive(client: SqlClient, projection: string, from: number | undefined, to: number): Promise<void> {
  if (from === undefined) {
    await client.query(`insert into projections.live (projection, version) values ($1, $2)`, [projection, to]);
  } else {
    await client.query(
      `update projections.live set version = $2, previous_version = $3, switched_at = now() where projection = $1`,
      [projection, to, from],
    );
    await client.query(`update projections.versions set status = 'retired' where projection = $1 and version = $2`, [projection, from]);
  }
  await client.query(
    `update projections.versions set status = 'live', finished_at = coalesce(finished_at, now()) where projection = $1 and version = $2`,
    [projection, to],
  );
}

export interface SwitchResult {
  version: number;
  previousVersion: number | null;
}

/**
 * Makes `version` the live version, refusing unless it exists, is not retired
 * (a retired version returns through rollback) and has caught up: every
 * partition at its head, or its oldest unapplied event younger than
 * maxLagSeconds. Checked and switched in one transaction.
 */
export async function promoteVersion(
  client: SqlClient,
  projection: string,
  version: number,
  options: { maxLagSeconds?: number } = {},
): Promise<SwitchResult> {
  return inTransaction(client, async () => {
    const live = await lockLive(client, projection);
    const target = await findVersion(client, projection, version);
    if (!target) throw new PromotionRefusedError(`${projection} has no version ${version}`);
    if (live?.version === version) throw new PromotionRefusedError(`${projection} v${version} is already live`);
    if (target.status === 'retired') {
      throw new PromotionRefusedError(
        `${projection} v${version} is retired; rollback returns to the previous live version, otherwise rebuild a new version`,
      );
    }
    await assertCaughtUp(client, projection, version, options.maxLagSeconds ?? DEFAULT_MAX_LAG_SECONDS);
    await switchLive(client, projection, live?.version, version);
    return { version, previousVersion: live?.version ?? null };
  });
}

/** Makes the previous live version live again (same catch-up rule as promote); rolling back twice returns. */
export async function rollbackVersion(
  client: SqlClient,
  projection: string,
  options: { maxLagSeconds?: number } = {},
): Promise<SwitchResult> {
  return inTransaction(client, async () => {
    const live = await lockLive(client, projection);
    if (!live) throw new PromotionRefusedError(`${projection} has no live version`);
    if (live.previousVersion === null) throw new PromotionRefusedError(`${projection} has no previous version to roll back to`);
    if (!(await findVersion(client, projection, live.previousVersion))) {
      throw new PromotionRefusedError(`${projection} v${live.previousVersion}, the previous version, was dropped`);
    }
    await assertCaughtUp(client, projection, live.previousVersion, options.maxLagSeconds ?? DEFAULT_MAX_LAG_SECONDS);
    await switchLive(client, projection, live.version, live.previousVersion);
    return { version: live.previousVersion, previousVersion: live.version };
  });
}

export interface DropResult {
  schemaName: string;
  /** Projector processes that still held leases on the version: their next write fails. */
  leaseOwners: string[];
}

/**
 * Removes a version: its schema and its registry row (checkpoints, members and
 * leases cascade). Refuses the live version; dropping the previous one ends
 * the possibility of rolling back to it.
 */
export async function dropVersion(client: SqlClient, projection: string, version: number): Promise<DropResult> {
  return inTransaction(client, async () => {
    const live = await lockLive(client, projection);
    const target = await findVersion(client, projection, version);
    if (!target) throw new PromotionRefusedError(`${projection} has no version ${version}`);
    if (live?.version === version) {
      throw new PromotionRefusedError(`${projection} v${version} is live; promote another version or roll back first`);
    }
    if (live?.previousVersion === version) {
      await client.query(`update projections.live set previous_version = null where projection = $1`, [projection]);
    }
    const { rows: leases } = await client.query<{ owner: string }>(
      `select distinct owner from projections.leases where projection = $1 and version = $2 and expires_at > now() order by owner`,
      [projection, version],
    );
    await dropVersionSchema(client, target.schemaName);
    await client.query(`delete from projections.versions where projection = $1 and version = $2`, [projection, version]);
    return { schemaName: target.schemaName, leaseOwners: leases.map((l) => l.owner) };
  });
}

export interface VersionStatusReport extends ProjectionVersion {
  live: boolean;
  /** Events applied since the version was installed (sum over partitions). */
  eventsApplied: number;
  lag: VersionLag;
}

/** Every version of every projection, with progress and lag, for `projections list`. */
export async function projectionStatus(client: SqlClient): Promise<VersionStatusReport[]> {
  const versions = await listVersions(client);
  const { rows: live } = await client.query<{ projection: string; version: number }>(`select projection, version from projections.live`);
  const { rows: applied } = await client.query<{ projection: string; version: number; events: string }>(
    `select projection, version, sum(events) as events from projections.checkpoints group by projection, version`,
  );
  const reports: VersionStatusReport[] = [];
  for (const v of versions) {
    reports.push({
      ...v,
      live: live.some((l) => l.projection === v.projection && l.version === v.version),
      eventsApplied: Number(applied.find((a) => a.projection === v.projection && a.version === v.version)?.events ?? 0),
      lag: await measureLag(client, v.projection, v.version),
    });
  }
  return reports;
}
