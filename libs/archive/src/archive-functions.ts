import type pg from 'pg';
import { ArchiveError } from './archive-error.js';

/** A range of one partition that left the hot store or came back to it. */
export interface ArchivedRangeChange {
  partition: number;
  firstPosition: number;
  lastPosition: number;
  events: number;
}

/**
 * Calls one of the archive's database functions (migration
 * 2026-12-03T01-00-event-archive) that answers with a range.
 */
export async function callRangeFunction(client: pg.Pool | pg.PoolClient, text: string, values: unknown[]): Promise<ArchivedRangeChange> {
  try {
    const { rows } = await client.query<{ r: ArchivedRangeChange }>(text, values);
    return rows[0]!.r;
  } catch (error) {
    throw asArchiveError(error);
  }
}

/**
 * The functions' refusals (SQLSTATEs they raise) already speak to the
 * operator; a missing privilege is given the role that has it.
 */
export function asArchiveError(error: unknown): unknown {
  const code = (error as { code?: string }).code;
  if (code === '42501') return new ArchiveError(`${(error as Error).message}: the archive needs a login in role event_archivist`, { cause: error });
  if (code === '55000' || code === '22023' || code === 'XX001') return new ArchiveError((error as Error).message, { cause: error });
  return error;
}
