import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** What a caller or a proxy may send as an id (UUIDs, hex, base64…): bounded, nothing that could break a log line. */
const WELL_FORMED = /^[A-Za-z0-9._~:/+=-]{1,128}$/;

/**
 * A request's id (Fastify's genReqId in every app): the caller's X-Request-Id
 * when well-formed, else a fresh UUID. The command API also returns it and
 * records it on every event the request stores, so a log line leads to them.
 * Its gRPC port reads the same header from an HTTP/2 stream's metadata.
 */
export function requestIdOf(request: Pick<IncomingMessage, 'headers'>): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && WELL_FORMED.test(given) ? given : randomUUID();
}
