import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Ids a caller or a proxy in front may set: UUIDs, hex, base64 and the like,
 * bounded, and nothing that could break a log line or a COPY row.
 */
const WELL_FORMED = /^[A-Za-z0-9._~:/+=-]{1,128}$/;

/**
 * The request's id: the caller's X-Request-Id when well-formed, else a fresh
 * UUID. Logged with the request's errors, returned in its response and
 * recorded on every event it stores.
 */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && WELL_FORMED.test(given) ? given : randomUUID();
}
