import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one projector process, by projection and version. Lag gauges describe the whole version, every partition. */
export class ProjectorMetrics {
  readonly registry = new Registry();

  readonly eventsApplied = new Counter({
    name: 'projector_events_applied_total',
    help: 'Events applied to the read model by this process, by projection and version',
    labelNames: ['projection', 'version'],
    registers: [this.registry],
  });
  readonly batchDuration = new Histogram({
    name: 'projector_batch_duration_seconds',
    help: 'Time to apply one batch (aggregate, upsert, checkpoint, commit)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    labelNames: ['projection', 'version'],
    registers: [this.registry],
  });
  readonly ownedPartitions = new Gauge({
    name: 'projector_owned_partitions',
    help: 'Partitions this process holds the lease of, by projection and version',
    labelNames: ['projection', 'version'],
    registers: [this.registry],
  });
  readonly storeHead = new Gauge({
    name: 'projector_partition_store_position',
    help: 'Newest stored event position, by partition',
    labelNames: ['projection', 'version', 'partition'],
    registers: [this.registry],
  });
  readonly checkpoint = new Gauge({
    name: 'projector_partition_checkpoint_position',
    help: 'Newest projected event position, by partition',
    labelNames: ['projection', 'version', 'partition'],
    registers: [this.registry],
  });
  readonly lagEvents = new Gauge({
    name: 'projector_partition_lag_events',
    help: 'Stored events not yet projected, by partition',
    labelNames: ['projection', 'version', 'partition'],
    registers: [this.registry],
  });
  readonly lagSeconds = new Gauge({
    name: 'projector_partition_lag_seconds',
    help: 'Age of the oldest stored event not yet projected (0 when caught up), by partition',
    labelNames: ['projection', 'version', 'partition'],
    registers: [this.registry],
  });
  readonly stalled = new Gauge({
    name: 'projector_partition_stalled',
    help: '1 when events wait and the checkpoint has not moved for PROJECTOR_STALL_SECONDS, by partition',
    labelNames: ['projection', 'version', 'partition'],
    registers: [this.registry],
  });

  readonly bufferedEvents = new Gauge({
    name: 'projector_partition_buffered_events',
    help: 'Events received from JetStream and held in memory, not yet taken for a batch, by partition (at most PROJECTOR_BUFFER_EVENTS)',
    labelNames: ['projection', 'version', 'partition'],
    registers: [this.registry],
  });
  readonly bufferedBytes = new Gauge({
    name: 'projector_partition_buffered_bytes',
    help: 'Bytes of the JetStream messages held in memory, not yet taken for a batch, by partition',
    labelNames: ['projection', 'version', 'partition'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The observer a partition worker and its consumer, of one version, report to. */
  forVersion(projection: string, version: number): {
    applied(partition: number, events: number, seconds: number): void;
    buffered(partition: number, events: number, bytes: number): void;
  } {
    const labels = { projection, version: String(version) };
    return {
      applied: (_partition, events, seconds) => {
        this.eventsApplied.inc(labels, events);
        this.batchDuration.observe(labels, seconds);
      },
      buffered: (partition, events, bytes) => {
        const byPartition = { ...labels, partition: String(partition) };
        this.bufferedEvents.set(byPartition, events);
        this.bufferedBytes.set(byPartition, bytes);
      },
    };
  }
}
