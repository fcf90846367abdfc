import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { HEALTH_OK, readinessAnswer, ReadinessProbe } from '@app/monitoring';
import { DrainState } from './drain-state.js';
import type { QueryApiReadiness } from './readiness.js';

/**
 * Liveness: the process answers. Readiness: not draining, and the last
 * background check found the database answering with a live read-model
 * version. Both say only their status: this port is the one merchants reach.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly readiness: ReadinessProbe<QueryApiReadiness>,
    private readonly drain: DrainState,
  ) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: string } {
    return HEALTH_OK;
  }

  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const { code, body } = readinessAnswer(!this.drain.draining && this.readiness.ready);
    await reply.code(code).send(body);
  }
}
