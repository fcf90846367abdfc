import { Controller, Get, Header, HttpCode, Inject, Module, Res, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type pg from 'pg';
import { ProjectorSet as Projector } from '../projector-set.js';

const PG_POOL = Symbol('PG_POOL');

/** Liveness: the process answers. Readiness: the database answers (NATS is optional: the store is the truth). */
@Controller('health')
class HealthController {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool, private readonly projector: Projector) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: string } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const database = await this.pool.query('select 1').then(() => true, () => false);
    const lag = this.projector.lastLag;
    await reply.code(database ? 200 : 503).send({
      status: database ? 'ok' : 'unavailable',
      database,
      nats: this.projector.natsConnected,
      lagEvents: lag.reduce((sum, l) => sum + l.lagEvents, 0),
      stalledPartitions: lag.filter((l) => l.stalled).map((l) => l.partition),
    });
  }
}

@Controller('metrics')
class MetricsController {
  constructor(private readonly projector: Projector) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.projector.metrics.registry.metrics();
  }
}

class ProjectorLifecycle implements OnApplicationShutdown {
  constructor(private readonly projector: Projector, private readonly pools: readonly pg.Pool[]) {}

  async onApplicationShutdown(): Promise<void> {
    await this.projector.stop();
    for (const pool of new Set(this.pools)) await pool.end();
  }
}

@Module({})
export class ProjectorHttpModule {
  /** `pool` answers /health/ready (the control pool: never queued behind batches); every pool given is closed at shutdown. */
  static with(projector: Projector, pool: pg.Pool, ...others: pg.Pool[]): DynamicModule {
    return {
      module: ProjectorHttpModule,
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: Projector, useValue: projector },
        { provide: PG_POOL, useValue: pool },
        { provide: ProjectorLifecycle, useValue: new ProjectorLifecycle(projector, [pool, ...others]) },
      ],
    };
  }
}
