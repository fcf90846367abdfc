import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type pg from 'pg';
import { NatsConnector } from '@app/messaging';
import { PG_POOL } from '../infrastructure/tokens.js';
import { DrainState } from './drain-state.js';

/**
 * Liveness: the process answers. Readiness: the event store answers and the
 * process is not draining. NATS is reported but not required: ingest goes on
 * without it and the relay catches up later.
 */
@Controller('health')
export class HealthController {
  constructor(
    @Inject(PG_POOL) private readonly pool: pg.Pool,
    private readonly nats: NatsConnector,
    private readonly drain: DrainState,
  ) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: string } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const nats = this.nats.connected ? 'connected' : 'disconnected';
    if (this.drain.draining) {
      await reply.code(503).send({ status: 'draining', nats });
      return;
    }
    try {
      await this.pool.query('select 1');
      await reply.code(200).send({ status: 'ready', database: 'ok', nats });
    } catch {
      await reply.code(503).send({ status: 'unavailable', database: 'unreachable', nats });
    }
  }
}
