import { describe, expect, it } from 'vitest';
import { loadProjectorConfig } from './projector.config.js';

const DATABASE_URL = 'postgres://projector@127.0.0.1:5432/payments';

describe('loadProjectorConfig', () => {
  it('reads PROJECTOR_VERSIONS as name=N pairs and PROJECTOR_PROJECTIONS as names', () => {
    const config = loadProjectorConfig({
      DATABASE_URL, PROJECTOR_VERSIONS: 'merchant-metrics=2, merchant-payments = 1', PROJECTOR_PROJECTIONS: 'merchant-payments',
    });
    expect(config.versions).toEqual({ 'merchant-metrics': 2, 'merchant-payments': 1 });
    expect(config.projections).toEqual(['merchant-payments']);
  });

  it('defaults to no pinned versions and every projection', () => {
    const config = loadProjectorConfig({ DATABASE_URL });
    expect(config.versions).toEqual({});
    expect(config.projections).toBeUndefined();
  });

  it.each([
    ['merchant-metrics', 'PROJECTOR_VERSIONS must be name=N pairs'],
    ['merchant-metrics=0', 'PROJECTOR_VERSIONS must be name=N pairs'],
    ['Merchant=1', 'PROJECTOR_VERSIONS must be name=N pairs'],
    ['a=1,a=2', 'PROJECTOR_VERSIONS names a twice'],
  ])('refuses PROJECTOR_VERSIONS=%s', (value, message) => {
    expect(() => loadProjectorConfig({ DATABASE_URL, PROJECTOR_VERSIONS: value })).toThrow(message);
  });

  it('refuses a projection list with something else than names', () => {
    expect(() => loadProjectorConfig({ DATABASE_URL, PROJECTOR_PROJECTIONS: 'merchant-metrics;drop' })).toThrow('PROJECTOR_PROJECTIONS must be projection names');
  });
});
