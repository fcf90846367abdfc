import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type pg from 'pg';
import { PROJECTION_NAME, readLive } from '@app/merchant-metrics';
import { PG_POOL } from '../infrastructure/tokens.js';
import { DrainState } from './drain-state.js';

/**
 * Liveness: the process answers. Readiness: not draining, the database
 * answers, and the read model has a live version, without which every
 * merchantMetrics query would fail with UNAVAILABLE.
 */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly drain: DrainState,
  ) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: string } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    if (this.drain.draining) {
      await reply.code(503).send({ status: 'draining' });
      return;
    }
    let live;
    try {
      live = await readLive(this.pool, PROJECTION_NAME);
    } catch {
      await reply.code(503).send({ status: 'unavailable', database: 'unreachable' });
      return;
    }
    if (!live) {
      await reply.code(503).send({ status: 'unavailable', database: 'ok', readModel: 'no live version' });
      return;
    }
    await reply.code(200).send({ status: 'ready', database: 'ok', readModel: { version: live.version } });
  }
}
