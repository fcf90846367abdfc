import type pg from 'pg';
import { oldestWaitingAge, readPartitionProgress } from '@app/projections';
import type { ProjectorMetrics } from './projector.metrics.js';

export interface PartitionLag {
  partition: number;
  head: number;
  checkpoint: number;
  lagEvents: number;
  lagSeconds: number;
  stalled: boolean;
}

export interface MonitorLogger {
  log(message: string): void;
  warn(message: string): void;
}

/**
 * Compares, for every partition, the newest stored position with the
 * version's checkpoint, and reports lag and stalls (events waiting while the
 * checkpoint does not move) as metrics and log lines: a silent stall is the
 * failure users of other event stores hit most.
 */
export class LagMonitor {
  private readonly lastMove = new Map<number, { checkpoint: number; at: number }>();
  private readonly stalledNow = new Set<number>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly target: { projection: string; version: number },
    private readonly stallMs: number,
    private readonly metrics: ProjectorMetrics,
    private readonly logger: MonitorLogger,
  ) {}

  async sample(now = Date.now()): Promise<PartitionLag[]> {
    const progress = await readPartitionProgress(this.pool, this.target.projection, this.target.version);
    const lags: PartitionLag[] = [];
    for (const { partition, head, checkpoint } of progress) {
      const lagEvents = Math.max(0, head - checkpoint);
      const lagSeconds = lagEvents > 0 ? ((await oldestWaitingAge(this.pool, partition, checkpoint)) ?? 0) : 0;
      lags.push({ partition, head, checkpoint, lagEvents, lagSeconds, stalled: this.stallCheck(partition, checkpoint, lagEvents, now) });
    }
    for (const l of lags) {
      const labels = { projection: this.target.projection, version: String(this.target.version), partition: String(l.partition) };
      this.metrics.storeHead.set(labels, l.head);
      this.metrics.checkpoint.set(labels, l.checkpoint);
      this.metrics.lagEvents.set(labels, l.lagEvents);
      this.metrics.lagSeconds.set(labels, l.lagSeconds);
      this.metrics.stalled.set(labels, l.stalled ? 1 : 0);
    }
    return lags;
  }

  private stallCheck(partition: number, checkpoint: number, lagEvents: number, now: number): boolean {
    const last = this.lastMove.get(partition);
    if (!last || last.checkpoint !== checkpoint || lagEvents === 0) {
      this.lastMove.set(partition, { checkpoint, at: now });
    }
    const since = this.lastMove.get(partition)!.at;
    const stalled = lagEvents > 0 && now - since >= this.stallMs;
    if (stalled && !this.stalledNow.has(partition)) {
      this.stalledNow.add(partition);
      this.logger.warn(
        `partition ${partition} STALLED: ${lagEvents} events wait and checkpoint ${checkpoint} has not moved for ${Math.round((now - since) / 1000)} s`,
      );
    } else if (!stalled && this.stalledNow.delete(partition)) {
      this.logger.log(`partition ${partition} moving again (checkpoint ${checkpoint}, ${lagEvents} events waiting)`);
    }
    return stalled;
  }
}
