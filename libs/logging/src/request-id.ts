import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** What a caller or a proxy may send as an id (UUIDs, hex, base64…): bounded, nothing that could break a log line. */
const WELL_FORMED = /^[A-Za-z0-9._~:/+=-]{1,128}$/;

/** A request's id (Fastify's genReqId): the caller's X-Request-Id when well-formed, else a fresh UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && WELL_FORMED.test(given) ? given : randomUUID();
}
