import { Global, Inject, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { createKysely, createPool, type Database } from '@app/database';
import { EventStore, readPartitionCount } from '@app/event-store';
import { DEFAULT_STREAM_OPTIONS, NatsConnector, PublicationRelay } from '@app/messaging';
import { CommandApiMetrics } from '../metrics/command-api.metrics.js';
import { CommandApiConfigRef } from './config.provider.js';
import { KYSELY, PG_POOL, RELAY_POOL } from './tokens.js';

/**
 * Owns the process's connections: the ingest pool, the relay's own pool (so
 * publication never competes with ingest for connections), NATS, and the relay.
 * They close after the HTTP server has drained (onApplicationShutdown).
 */
class Lifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly nats: NatsConnector,
    private readonly relay: PublicationRelay,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    @Inject(RELAY_POOL) private readonly relayPool: pg.Pool,
  ) {}

  onApplicationBootstrap(): void {
    this.nats.start();
    this.relay.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay.stop();
    await this.nats.close();
    await Promise.all([this.pool.end(), this.relayPool.end()]);
  }
}

@Global()
@Module({
  providers: [
    CommandApiMetrics,
    {
      provide: PG_POOL,
      inject: [CommandApiConfigRef],
      useFactory: (config: CommandApiConfigRef) =>
        createPool({ connectionString: config.value.databaseUrl, max: config.value.databasePoolSize, applicationName: 'command-api' }),
    },
    {
      provide: RELAY_POOL,
      inject: [CommandApiConfigRef],
      useFactory: (config: CommandApiConfigRef) =>
        createPool({ connectionString: config.value.databaseUrl, max: 4, applicationName: 'command-api-relay' }),
    },
    { provide: KYSELY, inject: [PG_POOL], useFactory: (pool: pg.Pool): Kysely<Database> => createKysely(pool) },
    {
      provide: EventStore,
      inject: [PG_POOL, CommandApiConfigRef],
      useFactory: async (pool: pg.Pool, config: CommandApiConfigRef) =>
        new EventStore(pool, await readPartitionCount(pool), {
          maxConcurrentAppends: config.value.appendConcurrency,
          maxGroupEvents: config.value.appendGroupEvents,
        }),
    },
    {
      provide: NatsConnector,
      inject: [CommandApiConfigRef],
      useFactory: (config: CommandApiConfigRef) => new NatsConnector(config.value.natsUrl, 'command-api', new Logger('Nats'), 'manage', {
        ...DEFAULT_STREAM_OPTIONS, replicas: config.value.streamReplicas,
      }),
    },
    {
      provide: PublicationRelay,
      inject: [RELAY_POOL, NatsConnector, EventStore, CommandApiConfigRef, CommandApiMetrics],
      useFactory: (pool: pg.Pool, nats: NatsConnector, store: EventStore, config: CommandApiConfigRef, metrics: CommandApiMetrics) => {
        const relay = new PublicationRelay(
          pool,
          nats,
          { partitions: store.partitions, batchSize: config.value.publishBatchSize, roundSize: config.value.publishBatchSize * 10, pollIntervalMs: 250, publishTimeoutMs: 5000 },
          new Logger('PublicationRelay'),
          metrics,
        );
        store.onCommitted((runs) => relay.committed(runs));
        return relay;
      },
    },
    Lifecycle,
  ],
  exports: [CommandApiMetrics, PG_POOL, KYSELY, EventStore, NatsConnector, PublicationRelay],
})
export class InfrastructureModule {}
