import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { PROBLEM_TYPES, Problem, sendProblem } from './problem.js';

/**
 * Every failure of a REST handler leaves as a problem: a Problem as it says,
 * anything else as a 500 whose detail says nothing of the cause (it may hold
 * SQL or connection details), logged with the request's id.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (error instanceof Problem) {
      sendProblem(reply, error);
      return;
    }
    reply.log.error({ err: error }, 'REST request failed');
    sendProblem(reply, new Problem(PROBLEM_TYPES.internal, 'internal error; it has been logged'));
  }
}
