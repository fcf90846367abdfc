import { stdSerializers, type SerializerFn } from 'pino';
import { scrubFields, scrubText } from './scrub.js';

/** A request's path as logged: without its query string, which may carry anything. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return scrubText(query === -1 ? url : url.slice(0, query), 2_048);
}

interface LoggedRequest {
  method?: string;
  url?: string;
}

/**
 * pino applies these after formatters.log, to the fields of these names (Fastify logs its
 * request, reply and errors under them) and to the message: each scrubs what it returns.
 */
export const SERIALIZERS: Record<string, SerializerFn> = {
  msg: (msg: unknown) => (typeof msg === 'string' ? scrubText(msg) : scrubFields(msg)),
  err: (err: unknown) => scrubFields(err instanceof Error ? stdSerializers.err(err) : err),
  req: (req: LoggedRequest) => scrubFields({ method: req.method, url: typeof req.url === 'string' ? pathOf(req.url) : undefined }),
  res: (res: { statusCode?: number }) => ({ status: res.statusCode }),
};
