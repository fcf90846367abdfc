import { readFileSync } from 'node:fs';
import http2, { type Http2SecureServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger as Pino } from 'pino';
import { requestIdOf } from '@app/logging';
import { ConnectError } from '../connect/connect-error.js';
import { CommandApiConfigRef } from '../infrastructure/config.provider.js';
import { APP_LOGGER } from '../infrastructure/tokens.js';
import { RecordPaymentEventsGrpc } from '../payments/commands/record-payment-events/record-payment-events.grpc.js';
import { GrpcServerCall, grpcCodecOf } from './grpc-call.js';
import type { GrpcMethod } from './grpc-method.js';

/**
 * HTTP/2 bounds. Streams per connection: a producer needs a few, and the in-flight bound is
 * global anyway. Header list: `authorization`, `x-request-id` and gRPC's own entries fit many
 * times over. Windows: a stream may send 1 MiB before the server reads it, a connection 8 MiB
 * (Node's default, 64 KiB for the whole connection, would throttle 4 MiB messages); the server
 * reads a message only once the call is admitted and refuses the others at once.
 */
export const GRPC_HTTP2_SETTINGS = {
  maxConcurrentStreams: 100,
  maxHeaderListSize: 16 * 1024,
  initialWindowSize: 1024 * 1024,
} as const;
const CONNECTION_WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * The command API's gRPC port (COMMAND_API_GRPC_PORT on HOST): unary gRPC over HTTP/2, h2c or
 * TLS, for producers with a standard gRPC client. Each method is a framing over the code the
 * Connect endpoint runs. On shutdown it sends GOAWAY on every connection as soon as shutdown
 * begins, while the Connect port drains too, and lets the calls in flight finish.
 */
@Injectable()
export class GrpcListener implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private server?: Http2Server | Http2SecureServer;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly methods: ReadonlyMap<string, GrpcMethod>;
  private drained?: Promise<void>;

  constructor(
    private readonly config: CommandApiConfigRef,
    @Inject(APP_LOGGER) private readonly log: Pino,
    recordPaymentEvents: RecordPaymentEventsGrpc,
  ) {
    this.methods = new Map([recordPaymentEvents].map((method) => [method.path, method]));
  }

  async onApplicationBootstrap(): Promise<void> {
    const grpc = this.config.value.grpc;
    if (!grpc) return;
    const { host, bodyTimeoutMs } = this.config.value;
    const server = grpc.tls ? secureServer(grpc.tls) : http2.createServer({ settings: GRPC_HTTP2_SETTINGS });
    server.on('session', (session: ServerHttp2Session) => this.track(session));
    server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void this.serve(stream, headers));
    // A connection with no frames for this long is closed (the body deadline bounds each call).
    server.setTimeout(bodyTimeoutMs + 60_000);
    server.on('timeout', ((session: ServerHttp2Session) => session.close()) as () => void);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new Error(`cannot open the gRPC port ${host}:${grpc.port} (COMMAND_API_GRPC_PORT, HOST): ${error.message}`)));
      server.listen({ host, port: grpc.port }, () => {
        server.removeAllListeners('error');
        resolve();
      });
    });
    server.on('error', (error) => this.log.error({ err: error }, 'gRPC listener error'));
    this.server = server;
    new Logger('CommandApi').log(`gRPC on ${this.url} (${grpc.tls ? 'TLS' : 'cleartext HTTP/2, h2c'})`);
  }

  get address(): AddressInfo | undefined {
    return this.server?.address() as AddressInfo | undefined;
  }

  /** `http://host:port` (h2c) or `https://host:port` (TLS); a gRPC client's target is `host:port`. */
  get url(): string | undefined {
    const address = this.address;
    if (!address) return undefined;
    const host = address.address.includes(':') ? `[${address.address}]` : address.address;
    return `${this.config.value.grpc?.tls ? 'https' : 'http'}://${host}:${address.port}`;
  }

  /** Shutdown begins: no new connections, GOAWAY on each open one; the calls in flight go on. */
  beforeApplicationShutdown(): void {
    const server = this.server;
    if (!server) return;
    this.drained = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const session of this.sessions) session.close();
  }

  /** Waits for the calls in flight, at most as long as a call may take to arrive and be stored. */
  async onApplicationShutdown(): Promise<void> {
    if (!this.drained) return;
    let timer: NodeJS.Timeout | undefined;
    const backstop = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const session of this.sessions) session.destroy();
        resolve();
      }, this.config.value.bodyTimeoutMs + 20_000);
    });
    await Promise.race([this.drained, backstop]);
    clearTimeout(timer);
  }

  private track(session: ServerHttp2Session): void {
    this.sessions.add(session);
    session.on('close', () => this.sessions.delete(session));
    // Protocol errors and resets end the session; they are the client's, not the server's.
    session.on('error', (error) => this.log.debug({ err: error }, 'gRPC session error'));
    try {
      session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    } catch {
      // The session is already closing.
    }
    if (this.drained) session.close();
  }

  private async serve(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    const started = performance.now();
    stream.on('error', () => undefined);
    const requestId = requestIdOf({ headers });
    const path = String(headers[':path'] ?? '');
    const codec = grpcCodecOf(headers['content-type']);
    if (headers[':method'] !== 'POST' || codec === undefined) {
      // Not a gRPC request: plain HTTP answers, as the protocol prescribes (405, 415).
      const status = headers[':method'] !== 'POST' ? 405 : 415;
      stream.respond({ ':status': status, 'x-request-id': requestId, ...(status === 405 ? { allow: 'POST' } : {}) }, { endStream: true });
      if (!stream.readableEnded) stream.close(http2.constants.NGHTTP2_NO_ERROR);
      this.completed(requestId, path, status, undefined, started);
      return;
    }
    const call = new GrpcServerCall(stream, headers, codec, requestId);
    const method = this.methods.get(path);
    if (!method) {
      call.fail(new ConnectError('unimplemented', `unknown method ${path}: this server serves ${[...this.methods.keys()].join(', ')}`));
      this.completed(requestId, path, 200, call.status, started);
      return;
    }
    // The client's deadline: answered when it passes; the work goes on to its end and keeps its slot meanwhile.
    const timeout = typeof call.timeout === 'number' ? call.timeout : undefined;
    const timer = timeout === undefined ? undefined : setTimeout(() => {
      call.fail(new ConnectError('deadline_exceeded', `deadline exceeded: the call's grpc-timeout of ${timeout} ms passed`));
    }, timeout);
    try {
      await method.handle(call);
    } catch (error) {
      this.log.error({ err: error, reqId: requestId }, 'gRPC call failed');
      call.fail(new ConnectError('internal', 'internal error; nothing was stored'));
    } finally {
      clearTimeout(timer);
    }
    this.completed(requestId, path, 200, call.status, started);
  }

  /** One line per call, as Fastify writes for the Connect port, with the gRPC status (none: the client had gone). */
  private completed(reqId: string, url: string, status: number, grpcStatus: number | undefined, started: number): void {
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    this.log.info({ reqId, protocol: 'grpc', method: 'POST', url, status, grpcStatus, durationMs }, 'request completed');
  }
}

function secureServer(tls: { certFile: string; keyFile: string }): Http2SecureServer {
  try {
    return http2.createSecureServer({ settings: GRPC_HTTP2_SETTINGS, cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), allowHTTP1: false });
  } catch (error) {
    throw new Error(`cannot serve gRPC over TLS with COMMAND_API_GRPC_TLS_CERT ${tls.certFile} and COMMAND_API_GRPC_TLS_KEY ${tls.keyFile}: ${(error as Error).message}`);
  }
}
