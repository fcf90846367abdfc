import type pg from 'pg';
import type { MonitoringConfig } from '@app/config';
import { ReadinessProbe } from '@app/monitoring';

/**
 * Ready when the database answers on the control pool (never queued behind
 * batches). NATS is not required: the store is the truth, and the projector
 * reads it when the stream is away.
 */
export function projectorReadiness(control: pg.Pool, config: MonitoringConfig): ReadinessProbe<{ database: true }> {
  return new ReadinessProbe(
    async () => {
      await control.query('select 1');
      return { ready: true, details: { database: true } };
    },
    { intervalMs: config.readinessIntervalMs, timeoutMs: config.readinessTimeoutMs },
  );
}
