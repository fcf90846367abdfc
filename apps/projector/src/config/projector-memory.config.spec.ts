import { describe, expect, it } from 'vitest';
import { ConfigError } from '@app/config';
import { DEFAULT_BATCH_BUDGET_EVENTS, DEFAULT_BUFFER_EVENTS, DEFAULT_BUFFER_TOTAL_EVENTS, DEFAULT_SKETCH_CACHE_MB, loadProjectorMemoryConfig } from './projector-memory.config.js';

describe('loadProjectorMemoryConfig', () => {
  it('defaults the bounds and reads them when set', () => {
    expect(loadProjectorMemoryConfig({})).toEqual({
      bufferEvents: DEFAULT_BUFFER_EVENTS, batchBudgetEvents: DEFAULT_BATCH_BUDGET_EVENTS, bufferTotalEvents: DEFAULT_BUFFER_TOTAL_EVENTS,
      sketchCacheBytes: DEFAULT_SKETCH_CACHE_MB * 1048576,
    });
    expect(loadProjectorMemoryConfig({ PROJECTOR_BUFFER_EVENTS: '2500', PROJECTOR_SKETCH_CACHE_MB: '0', PROJECTOR_BATCH_BUDGET_EVENTS: '5000', PROJECTOR_BUFFER_TOTAL_EVENTS: '9000' }))
      .toEqual({ bufferEvents: 2500, batchBudgetEvents: 5000, bufferTotalEvents: 9000, sketchCacheBytes: 0 });
    expect(loadProjectorMemoryConfig({ PROJECTOR_SKETCH_CACHE_MB: '8' }).sketchCacheBytes).toBe(8 * 1048576);
  });

  it.each([['PROJECTOR_SKETCH_CACHE_MB', '-1'], ['PROJECTOR_SKETCH_CACHE_MB', 'big'], ['PROJECTOR_SKETCH_CACHE_MB', '16385'],
    ['PROJECTOR_BATCH_BUDGET_EVENTS', '999'], ['PROJECTOR_BATCH_BUDGET_EVENTS', 'x']])('refuses %s=%s, naming it', (name, value) => {
    expect(() => loadProjectorMemoryConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it.each(['0', '-5', 'lots', '1000001'])('refuses PROJECTOR_BUFFER_EVENTS=%s, naming it', (value) => {
    expect(() => loadProjectorMemoryConfig({ PROJECTOR_BUFFER_EVENTS: value })).toThrow(ConfigError);
    expect(() => loadProjectorMemoryConfig({ PROJECTOR_BUFFER_EVENTS: value })).toThrow(/PROJECTOR_BUFFER_EVENTS/);
  });
});
