import { readInt } from '@app/config';

/** Settings that bound what a projector process holds in memory (beside ProjectorConfig). */
export interface ProjectorMemoryConfig {
  /**
   * Most events of one partition received from JetStream and held, not yet
   * applied; pulls wait for room beyond that (PROJECTOR_BUFFER_EVENTS).
   */
  bufferEvents: number;
}

export const DEFAULT_BUFFER_EVENTS = 10_000;

export function loadProjectorMemoryConfig(env: Record<string, string | undefined> = process.env): ProjectorMemoryConfig {
  return {
    bufferEvents: readInt(env, 'PROJECTOR_BUFFER_EVENTS', DEFAULT_BUFFER_EVENTS, { min: 1, max: 1_000_000 }),
  };
}
