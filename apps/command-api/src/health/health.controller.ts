import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { HEALTH_OK, readinessAnswer, ReadinessProbe } from '@app/monitoring';
import { DrainState } from './drain-state.js';
import type { CommandApiReadiness } from './readiness.js';

/**
 * Liveness: the process answers. Readiness: not draining, and the last
 * background check found the event store answering. Both say only their
 * status: this port is the one producers and load balancers reach.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly readiness: ReadinessProbe<CommandApiReadiness>,
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
