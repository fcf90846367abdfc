import type pg from 'pg';
import { positioned, readStoredEvents, type EventSource, type PositionedEvent } from '@app/projections';

interface RemovedRange {
  first: number;
  last: number;
}

/** How long the removed ranges are trusted before they are read again (a removal is rare and announced). */
const RANGES_TTL_MS = 10_000;

/**
 * Every reader from a checkpoint (a projector's workers, a rebuild) reads
 * through this: positions whose range was removed from the hot store come
 * from the archive's files in `dir`, the others from the store, so a version
 * built after archiving is the version built before. The removed ranges are
 * event_store.archived_ranges' rows with removed_at set, read again every
 * RANGES_TTL_MS and whenever the store answers with a hole where it should
 * not. Without `dir`, reading a removed range fails with what to set.
 * (Its own library, apart from @app/archive, so that a process that never
 * reads the archive never loads DuckDB.)
 */
export class ArchivedEventSource implements EventSource {
  private readonly store: EventSource;
  private ranges?: { at: number; byPartition: Map<number, RemovedRange[]> };

  constructor(private readonly pool: pg.Pool, private readonly dir: string | undefined) {
    this.store = readStoredEvents(pool);
  }

  /** The last position of the removed ranges of a partition (0: none). */
  async removedThrough(partition: number): Promise<number> {
    const ranges = (await this.removedRanges(false)).get(partition) ?? [];
    return ranges.reduce((max, r) => Math.max(max, r.last), 0);
  }

  async read(partition: number, afterPosition: number, limit: number): Promise<PositionedEvent[]> {
    for (let attempt = 0; ; attempt++) {
      const ranges = (await this.removedRanges(attempt > 0)).get(partition) ?? [];
      const inside = ranges.find((r) => r.first <= afterPosition + 1 && afterPosition + 1 <= r.last);
      if (inside) {
        if (this.dir === undefined) {
          throw new Error(`partition ${partition}: positions ${inside.first}..${inside.last} were moved to the cold archive; set ARCHIVE_DIR to read them`);
        }
        // Loaded only now: DuckDB costs a process ~33 MiB, and most never read the archive.
        const { readArchivedPartition } = await import('@app/archive');
        const rows = await readArchivedPartition(this.dir, partition, afterPosition, Math.min(limit, inside.last - afterPosition));
        if (rows.length === 0 || rows[0]!.position !== afterPosition + 1) {
          throw new Error(`partition ${partition}: the archive in ${this.dir} lacks position ${afterPosition + 1}, which the store no longer holds`);
        }
        const archived = rows.map(positioned);
        // The range ended before the limit: the rest from what follows it, so a short answer still means the head.
        if (archived.length < limit && archived[archived.length - 1]!.position === inside.last) {
          return [...archived, ...(await this.read(partition, inside.last, limit - archived.length))];
        }
        return archived;
      }
      // The store, up to the next removed range.
      const next = ranges.filter((r) => r.first > afterPosition + 1).reduce((min, r) => Math.min(min, r.first), Infinity);
      const events = await this.store.read(partition, afterPosition, Number.isFinite(next) ? Math.min(limit, next - afterPosition - 1) : limit);
      // A hole where the ranges said none: a removal since they were read; read them again once.
      if (events.length > 0 && events[0]!.position !== afterPosition + 1 && attempt === 0) continue;
      return events;
    }
  }

  private async removedRanges(refresh: boolean): Promise<Map<number, RemovedRange[]>> {
    if (!refresh && this.ranges && performance.now() - this.ranges.at < RANGES_TTL_MS) return this.ranges.byPartition;
    const { rows } = await this.pool.query<{ partition: number; first_position: string; last_position: string }>(
      `select partition, first_position, last_position from event_store.archived_ranges where removed_at is not null`,
    );
    const byPartition = new Map<number, RemovedRange[]>();
    for (const r of rows) {
      const list = byPartition.get(Number(r.partition)) ?? [];
      list.push({ first: Number(r.first_position), last: Number(r.last_position) });
      byPartition.set(Number(r.partition), list);
    }
    this.ranges = { at: performance.now(), byPartition };
    return byPartition;
  }
}
