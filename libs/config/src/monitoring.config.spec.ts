import { describe, expect, it } from 'vitest';
import { loadCommandApiConfig } from './command-api.config.js';
import { readMonitoringConfig } from './monitoring.config.js';
import { loadProjectorConfig } from './projector.config.js';

const DATABASE_URL = 'postgres://u:p@127.0.0.1:5432/db';
const COMMAND = [{ variable: 'COMMAND_API_ADMIN_PORT', fallback: 9400 }, { variable: 'COMMAND_API_PORT', port: 4000 }] as const;

describe('monitoring configuration', () => {
  it('puts the admin ports on 127.0.0.1 by default, whatever HOST says', () => {
    const monitoring = { adminHost: '127.0.0.1', readinessIntervalMs: 1000, readinessTimeoutMs: 2000 };
    expect(loadCommandApiConfig({ DATABASE_URL, HOST: '0.0.0.0' })).toMatchObject({ host: '0.0.0.0', port: 4000, adminPort: 9400, ...monitoring });
    expect(loadProjectorConfig({ DATABASE_URL, HOST: '0.0.0.0' })).toMatchObject({ host: '0.0.0.0', port: 4002, adminPort: 9402, ...monitoring });
  });

  it('reads ADMIN_HOST, the port and the readiness timing', () => {
    expect(readMonitoringConfig({ ADMIN_HOST: '10.0.0.5', COMMAND_API_ADMIN_PORT: '9500', READINESS_INTERVAL_MS: '250', READINESS_TIMEOUT_MS: '800' }, ...COMMAND))
      .toEqual({ adminHost: '10.0.0.5', adminPort: 9500, readinessIntervalMs: 250, readinessTimeoutMs: 800 });
    expect(readMonitoringConfig({ COMMAND_API_ADMIN_PORT: '0' }, COMMAND[0], { variable: 'COMMAND_API_PORT', port: 0 }).adminPort).toBe(0);
  });

  it('refuses an admin port equal to the app\'s own, and bad values, naming the variable', () => {
    expect(() => loadCommandApiConfig({ DATABASE_URL, COMMAND_API_ADMIN_PORT: '4000' }))
      .toThrow('COMMAND_API_ADMIN_PORT must differ from COMMAND_API_PORT (both 4000): /metrics is served on a port of its own');
    expect(() => loadProjectorConfig({ DATABASE_URL, PROJECTOR_PORT: '9402' }))
      .toThrow('PROJECTOR_ADMIN_PORT must differ from PROJECTOR_PORT (both 9402)');
    expect(() => readMonitoringConfig({ COMMAND_API_ADMIN_PORT: '70000' }, ...COMMAND)).toThrow('COMMAND_API_ADMIN_PORT must be between 0 and 65535, got 70000');
    expect(() => readMonitoringConfig({ READINESS_INTERVAL_MS: '10' }, ...COMMAND)).toThrow('READINESS_INTERVAL_MS must be between 100 and 60000, got 10');
    expect(() => readMonitoringConfig({ READINESS_TIMEOUT_MS: 'soon' }, ...COMMAND)).toThrow('READINESS_TIMEOUT_MS must be an integer, got "soon"');
  });
});
