import { readLive, type LiveVersion } from './registry.js';
import type { SqlClient } from './sql-client.js';

/** Queries cannot be answered: no version of the projection has gone live yet. */
export class NoLiveVersionError extends Error {
  override readonly name = 'NoLiveVersionError';
}

/**
 * The live version (and its schema) for the query path, cached for a short
 * time: every query needs it, and a promotion or rollback only has to be seen
 * within the TTL. Concurrent callers share one look-up; failures are not cached.
 */
export class LiveVersionCache {
  private value: LiveVersion | undefined;
  private fetchedAt = -Infinity;
  private pending: Promise<LiveVersion> | undefined;

  constructor(
    private readonly client: SqlClient,
    private readonly projection: string,
    private readonly ttlMs = 500,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async get(): Promise<LiveVersion> {
    if (this.value !== undefined && this.now() - this.fetchedAt < this.ttlMs) return this.value;
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forget the cached version (after this process itself promoted or rolled back). */
  invalidate(): void {
    this.value = undefined;
  }

  private async fetch(): Promise<LiveVersion> {
    // Timed from the start of the look-up, so a slow answer is not kept longer than the TTL.
    const startedAt = this.now();
    const live = await readLive(this.client, this.projection);
    if (live === undefined) throw new NoLiveVersionError(`projection ${this.projection} has no live version`);
    this.value = live;
    this.fetchedAt = startedAt;
    return live;
  }
}
