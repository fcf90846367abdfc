import { readInt } from '@app/config';

/** Settings that bound what a projector process holds in memory (beside ProjectorConfig). */
export interface ProjectorMemoryConfig {
  /**
   * Most events of one partition received from JetStream and held, not yet
   * applied; pulls wait for room beyond that (PROJECTOR_BUFFER_EVENTS).
   */
  bufferEvents: number;
  /**
   * Most bytes of customer sketches kept from one batch for the next, per
   * projected version (PROJECTOR_SKETCH_CACHE_MB; 0 turns the cache off).
   */
  sketchCacheBytes: number;
  /**
   * Most events held in batches (read, not yet applied) by all the partition
   * workers of one projected version together; each batch is granted at
   * least BATCH_BUDGET_FLOOR_EVENTS (PROJECTOR_BATCH_BUDGET_EVENTS).
   */
  batchBudgetEvents: number;
  /**
   * Most events held in the JetStream buffers of all partitions of one
   * projected version together (PROJECTOR_BUFFER_TOTAL_EVENTS); a partition
   * holding none may always pull one message.
   */
  bufferTotalEvents: number;
}

export const DEFAULT_BUFFER_EVENTS = 40_000;
export const DEFAULT_BATCH_BUDGET_EVENTS = 40_000;
export const DEFAULT_BUFFER_TOTAL_EVENTS = 80_000;
/** What a batch is granted when the budget is spent, so that no partition waits for another. */
export const BATCH_BUDGET_FLOOR_EVENTS = 1000;
export const DEFAULT_SKETCH_CACHE_MB = 8;

export function loadProjectorMemoryConfig(env: Record<string, string | undefined> = process.env): ProjectorMemoryConfig {
  return {
    bufferEvents: readInt(env, 'PROJECTOR_BUFFER_EVENTS', DEFAULT_BUFFER_EVENTS, { min: 1, max: 1_000_000 }),
    batchBudgetEvents: readInt(env, 'PROJECTOR_BATCH_BUDGET_EVENTS', DEFAULT_BATCH_BUDGET_EVENTS, { min: 1000, max: 10_000_000 }),
    bufferTotalEvents: readInt(env, 'PROJECTOR_BUFFER_TOTAL_EVENTS', DEFAULT_BUFFER_TOTAL_EVENTS, { min: 1, max: 10_000_000 }),
    sketchCacheBytes: readInt(env, 'PROJECTOR_SKETCH_CACHE_MB', DEFAULT_SKETCH_CACHE_MB, { min: 0, max: 16_384 }) * 1024 * 1024,
  };
}
