import type pg from 'pg';
import type { MonitoringConfig } from '@app/config';
import { ReadinessProbe } from '@app/monitoring';

export interface CommandApiReadiness {
  database: 'ok';
}

/**
 * Ready when the event store answers (on the ingest pool, as appends do).
 * NATS is not required: ingest goes on without it and the relay catches up
 * later. Draining is checked on each call, not here.
 */
export function commandApiReadiness(pool: pg.Pool, config: MonitoringConfig): ReadinessProbe<CommandApiReadiness> {
  return new ReadinessProbe(
    async () => {
      await pool.query('select 1');
      return { ready: true, details: { database: 'ok' } };
    },
    { intervalMs: config.readinessIntervalMs, timeoutMs: config.readinessTimeoutMs },
  );
}
