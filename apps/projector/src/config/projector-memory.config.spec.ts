import { describe, expect, it } from 'vitest';
import { ConfigError } from '@app/config';
import { DEFAULT_BUFFER_EVENTS, loadProjectorMemoryConfig } from './projector-memory.config.js';

describe('loadProjectorMemoryConfig', () => {
  it('defaults the buffer bound and reads it when set', () => {
    expect(loadProjectorMemoryConfig({})).toEqual({ bufferEvents: DEFAULT_BUFFER_EVENTS });
    expect(loadProjectorMemoryConfig({ PROJECTOR_BUFFER_EVENTS: '2500' })).toEqual({ bufferEvents: 2500 });
  });

  it.each(['0', '-5', 'lots', '1000001'])('refuses PROJECTOR_BUFFER_EVENTS=%s, naming it', (value) => {
    expect(() => loadProjectorMemoryConfig({ PROJECTOR_BUFFER_EVENTS: value })).toThrow(ConfigError);
    expect(() => loadProjectorMemoryConfig({ PROJECTOR_BUFFER_EVENTS: value })).toThrow(/PROJECTOR_BUFFER_EVENTS/);
  });
});
