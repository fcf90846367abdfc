import { Controller, Get, HttpCode, Module, Res, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type pg from 'pg';
import type { MonitoringConfig } from '@app/config';
import { HEALTH_OK, readinessAnswer, ReadinessProbe } from '@app/monitoring';
import { ProjectorSet as Projector } from '../projector-set.js';
import { AdminListener, MONITORING_CONFIG } from './admin-listener.js';
import { projectorReadiness } from './projector-readiness.js';

/**
 * Liveness: the process answers. Readiness: the last background check found
 * the database answering. Both say only their status; lag and the rest are
 * on the admin port's /health/details.
 */
@Controller('health')
class HealthController {
  constructor(private readonly readiness: ReadinessProbe<{ database: true }>) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: string } {
    return HEALTH_OK;
  }

  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const { code, body } = readinessAnswer(this.readiness.ready);
    await reply.code(code).send(body);
  }
}

/** The pool readiness is checked on. */
export const CONTROL_POOL = Symbol('ControlPool');

class ProjectorLifecycle implements OnApplicationShutdown {
  constructor(private readonly projector: Projector, private readonly pools: readonly pg.Pool[]) {}

  async onApplicationShutdown(): Promise<void> {
    await this.projector.stop();
    for (const pool of new Set(this.pools)) await pool.end();
  }
}

@Module({})
export class ProjectorHttpModule {
  /** `pool` answers readiness (the control pool: never queued behind batches); every pool given is closed at shutdown. */
  static with(projector: Projector, monitoring: MonitoringConfig, pool: pg.Pool, ...others: pg.Pool[]): DynamicModule {
    return {
      module: ProjectorHttpModule,
      controllers: [HealthController],
      providers: [
        { provide: Projector, useValue: projector },
        { provide: MONITORING_CONFIG, useValue: monitoring },
        { provide: CONTROL_POOL, useValue: pool },
        { provide: ReadinessProbe, useValue: projectorReadiness(pool, monitoring) },
        AdminListener,
        { provide: ProjectorLifecycle, useValue: new ProjectorLifecycle(projector, [pool, ...others]) },
      ],
    };
  }
}
