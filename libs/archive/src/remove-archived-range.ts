import type pg from 'pg';
import { callRangeFunction, type ArchivedRangeChange } from './archive-functions.js';

/**
 * Removes the verified, not yet removed range of a partition from the hot
 * store through event_store.remove_archived_range: one audited operation,
 * refused unless a verify recorded the range. Needs a login in
 * event_archivist (or the store's owner).
 */
export function removeArchivedRange(pool: pg.Pool, partition: number): Promise<ArchivedRangeChange> {
  return callRangeFunction(pool, 'select event_store.remove_archived_range($1) as r', [partition]);
}
