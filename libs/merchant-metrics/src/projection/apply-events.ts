import { advanceCheckpoint, PositionGapError, type PositionedEvent, type SqlClient, type VersionTarget } from '@app/projections';
import { UPSERT_MERCHANT_WATERMARKS } from '../schema/read-model-tables.js';
import type { MerchantMetricsLogic } from './merchant-metrics.projection.js';
import { MetricsDelta, paymentKey } from './metrics-delta.js';
import { writeDelta } from './metrics-writer.js';
import type { SketchCache, StagedSketches } from './sketch-cache.js';
import { writeSketchDelta } from './sketch-writer.js';

/** Where a projector writes: one version of one projection. */
export interface ProjectionTarget extends VersionTarget {
  logic: MerchantMetricsLogic;
}

export interface ApplyOptions {
  /** The sketches this process committed last for the partition (the `sketches` layout); none: read them all from the tables. */
  sketchCache?: SketchCache;
  /** Most 15-minute cells one transaction writes (MAX_CELLS_PER_TRANSACTION); a batch with more is applied in several, in order. */
  maxCellsPerTransaction?: number;
}

/**
 * Cells (merchant, 15 minutes, currency, method, store) per transaction at
 * most. A large merchant's 20,000 events fill a few hundred; 20,000 events of
 * small merchants fill 20,000, each nine rows in v3, about 9 KB of memory an
 * event while they are written: a projector catching up sixteen partitions of
 * 10,000 merchants held 1.1 GB.
 */
export const MAX_CELLS_PER_TRANSACTION = 2000;

/**
 * Applies a partition's events after `checkpoint` in transactions with the
 * checkpoint itself (one, unless they fill more than maxCellsPerTransaction
 * cells), so each event's effect lands exactly once: events at or below the
 * checkpoint (redeliveries, duplicates, replays) are skipped, and a crash
 * before a COMMIT leaves neither its metrics nor its checkpoint. `events` must be
 * in position order; returns the new checkpoint. `client` must be one connection.
 * A failed batch drops the partition's entries from `options.sketchCache`.
 */
export async function applyEvents(
  client: SqlClient,
  target: ProjectionTarget,
  partition: number,
  checkpoint: number,
  events: readonly PositionedEvent[],
  options: ApplyOptions = {},
): Promise<number> {
  const known = target.logic.paymentIndex ? await knownPayments(client, target.schemaName, events, checkpoint) : new Map<string, number>();
  const maxCells = options.maxCellsPerTransaction ?? MAX_CELLS_PER_TRANSACTION;
  const cache = target.logic.layout === 'sketches' ? options.sketchCache : undefined;
  let position = checkpoint;
  let next = 0;
  while (next < events.length) {
    // One transaction for as many events as fill maxCells cells: what a transaction builds in memory
    // grows with its cells (nine rows each in v3), and a small merchant's event is a cell of its own.
    const delta = new MetricsDelta();
    const watermarks = new Map<string, number>();
    const from = position;
    let recordedAt = '';
    let applied = 0;
    for (; next < events.length; next++) {
      const e = events[next];
      if (e.position <= position) continue;
      if (e.position !== position + 1) {
        throw new PositionGapError(`partition ${partition}: expected position ${position + 1}, got ${e.position}`);
      }
      if (applied > 0 && delta.cells.size >= maxCells) break;
      target.logic.apply(delta, e.event, known);
      watermarks.set(e.event.merchantId, e.position);
      position = e.position;
      recordedAt = e.recordedAt;
      applied++;
    }
    if (applied === 0) break;
    const staged: StagedSketches = { partition, from, to: position, entries: [] };
    await client.query('begin');
    try {
      await advanceCheckpoint(client, { ...target, partition }, from, { position, recordedAt, events: applied });
      // The checkpoint row is now held and was `from`: the cache's entries are trusted only if they were left there.
      cache?.prepare(partition, from);
      if (target.logic.layout === 'sketches') await writeSketchDelta(client, target.schemaName, target.engine, delta, cache && { cache, staged });
      else await writeDelta(client, target.schemaName, target.engine, delta, partition);
      await client.query(UPSERT_MERCHANT_WATERMARKS(target.schemaName), [partition, [...watermarks.keys()], [...watermarks.values()]]);
      await client.query('commit');
    } catch (error) {
      cache?.forget(partition);
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
    cache?.commit(staged);
    // Later transactions of the batch find this one's payments as stored ones (the first completion stays).
    for (const [key, payment] of delta.payments) if (!known.has(key)) known.set(key, payment.bucket);
  }
  return position;
}

/** Buckets of the stored payments that the batch's refunds name, in one statement. */
async function knownPayments(
  client: SqlClient,
  schema: string,
  events: readonly PositionedEvent[],
  checkpoint: number,
): Promise<Map<string, number>> {
  const merchants: string[] = [];
  const payments: string[] = [];
  for (const e of events) {
    if (e.position > checkpoint && e.event.paymentRefunded) {
      merchants.push(e.event.merchantId);
      payments.push(e.event.paymentRefunded.paymentId);
    }
  }
  const known = new Map<string, number>();
  if (merchants.length === 0) return known;
  const { rows } = await client.query<{ merchant_id: string; payment_id: string; bucket: Date | string }>(
    `select p.merchant_id, p.payment_id, p.bucket
     from ${schema}.payments p join unnest($1::text[], $2::text[]) as r(merchant_id, payment_id) using (merchant_id, payment_id)`,
    [merchants, payments],
  );
  for (const r of rows) known.set(paymentKey(r.merchant_id, r.payment_id), new Date(r.bucket).getTime());
  return known;
}
