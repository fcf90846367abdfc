import type pg from 'pg';
import type { MonitoringConfig } from '@app/config';
import { PROJECTION_NAME } from '@app/merchant-metrics';
import { readLive } from '@app/projections';
import { ReadinessProbe } from '@app/monitoring';

export interface QueryApiReadiness {
  database: 'ok';
  readModel: { version: number } | 'no live version';
}

/**
 * Ready when the database answers and the read model has a live version,
 * without which every merchantMetrics query would fail with UNAVAILABLE.
 * Draining is checked on each call, not here.
 */
export function queryApiReadiness(pool: pg.Pool, config: MonitoringConfig): ReadinessProbe<QueryApiReadiness> {
  return new ReadinessProbe(
    async () => {
      const live = await readLive(pool, PROJECTION_NAME);
      return { ready: live !== undefined, details: { database: 'ok', readModel: live ? { version: live.version } : 'no live version' } };
    },
    { intervalMs: config.readinessIntervalMs, timeoutMs: config.readinessTimeoutMs },
  );
}
