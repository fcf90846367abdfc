import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { partitionTable } from '@app/event-store';
import { ArchiveError } from './archive-error.js';
import type { ArchiveManifest } from './manifest.js';

/**
 * Refuses an archive that is not this store's, or whose files are not as
 * its manifest lists them, before an export extends it. Cheap by design
 * (one row per partition and a stat per file); verify reads everything.
 *
 * A store is recognised by the event at the end of each archived range: the
 * same id at that position, or, where the range has left the hot store, an
 * id the store still knows (event ids are never deleted) below its head.
 */
export async function checkArchiveOfStore(pool: pg.Pool, dir: string, manifest: ArchiveManifest, partitions: number): Promise<void> {
  const refuse = (why: string): never => {
    throw new ArchiveError(`the archive in ${dir} does not match this event store: ${why}`);
  };
  if (manifest.partitions !== partitions) refuse(`it has ${manifest.partitions} partitions, the store ${partitions}`);
  for (const range of manifest.ranges) {
    if (range.lastPosition === 0) continue;
    const { rows } = await pool.query<{ at_position: string | null; known: boolean; head: string }>(
      `select (select event_id::text from ${partitionTable(range.partition)} where position = $1) as at_position,
              exists (select from event_store.event_ids where event_id = $2::uuid) as known,
              (select head from event_store.partition_heads where partition = $3) as head`,
      [range.lastPosition, range.lastEventId, range.partition],
    );
    const { at_position: atPosition, known, head } = rows[0]!;
    const where = `partition ${range.partition} position ${range.lastPosition}`;
    if (atPosition !== null && atPosition !== range.lastEventId) refuse(`${where} is event ${atPosition} here, ${range.lastEventId} in the manifest`);
    if (atPosition === null && (!known || Number(head) < range.lastPosition)) refuse(`${where} (event ${range.lastEventId}) is not in this store`);
  }
  for (const file of manifest.files) {
    const size = await stat(join(dir, file.path)).then((s) => s.size, () => undefined);
    if (size === undefined) refuse(`${file.path} is listed in the manifest but missing; run verify`);
    if (size !== file.bytes) refuse(`${file.path} has ${size} bytes, the manifest says ${file.bytes}; run verify`);
  }
}
