import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AdminResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Answers GET (and HEAD) of one path. */
export type AdminRoute = () => AdminResponse | Promise<AdminResponse>;

/**
 * A plain HTTP listener beside an app's own, for what only operators should
 * reach (Prometheus /metrics, /health/details): it binds its own address,
 * loopback by default, so publishing the API's port publishes none of it.
 */
export class AdminServer {
  private constructor(private readonly server: Server) {}

  /** Listens on `host`:`port`; a failure names `setting`, the variable that chose the port. */
  static async listen(host: string, port: number, setting: string, routes: Readonly<Record<string, AdminRoute>>): Promise<AdminServer> {
    const server = createServer((request, response) => void answer(routes, request, response));
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new Error(`cannot open the admin port ${host}:${port} (${setting}, ADMIN_HOST): ${error.message}`)));
      server.listen({ host, port }, () => {
        server.removeAllListeners('error');
        resolve();
      });
    });
    return new AdminServer(server);
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  get url(): string {
    const { address, port } = this.address;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  /** Stops listening and drops open connections (a scraper's keep-alive must not hold the shutdown). */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

async function answer(routes: Readonly<Record<string, AdminRoute>>, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '/').split('?')[0]!;
  const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
  let reply: AdminResponse;
  if (!route) {
    reply = text(404, 'not found');
  } else if (request.method !== 'GET' && request.method !== 'HEAD') {
    reply = text(405, 'method not allowed');
    response.setHeader('allow', 'GET, HEAD');
  } else {
    try {
      reply = await route();
    } catch {
      reply = text(500, 'internal error');
    }
  }
  response.writeHead(reply.status, { 'content-type': reply.contentType, 'cache-control': 'no-store' });
  response.end(request.method === 'HEAD' ? undefined : reply.body);
}

function text(status: number, body: string): AdminResponse {
  return { status, contentType: 'text/plain; charset=utf-8', body };
}

/** A JSON answer of an admin route. */
export function jsonResponse(status: number, body: unknown): AdminResponse {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
}

/** A Prometheus scrape of `registry` (prom-client's Registry). */
export async function metricsResponse(registry: { metrics(): Promise<string>; contentType: string }): Promise<AdminResponse> {
  return { status: 200, contentType: registry.contentType, body: await registry.metrics() };
}
