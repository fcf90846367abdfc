import { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';
import { pathOf } from './serializers.js';

/**
 * Fastify's request lines, one per request: no "incoming request" line, and on completion the
 * method, the path without its query string, the status and the duration in ms, with the
 * request's reqId as every line through request.log has it (its errors too).
 */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const fields = { method: request.method, url: pathOf(request.url), status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 10) / 10 };
    if (error) reply.log.error({ ...fields, err: error }, 'request failed');
    else reply.log.info(fields, 'request completed');
  }

  override routeNotFound(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.info({ method: request.method, url: pathOf(request.url) }, 'route not found');
  }
}

/** FastifyAdapter options: its logging through the app's pino logger, and request ids from requestIdOf. */
export function fastifyLogging(pino: Logger, genReqId: (request: IncomingMessage) => string = requestIdOf) {
  return { loggerInstance: pino, logController: new RequestLogController(), requestIdHeader: false as const, genReqId };
}

/** Sends each request's id back in X-Request-Id, refusals included (the hook runs first). */
export function echoRequestId(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
}
