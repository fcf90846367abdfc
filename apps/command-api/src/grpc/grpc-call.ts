import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { ConnectError } from '../connect/connect-error.js';
import type { Codec } from '../connect/unary-request.js';
import { frameMessage, grpcCompressionOf, grpcTimeoutMs, readUnaryMessage } from './grpc-frames.js';
import { encodeStatusMessage, GRPC_STATUS } from './grpc-status.js';

/** The codec a gRPC request's Content-Type names (`application/grpc` is protobuf); undefined: not a gRPC request. */
export function grpcCodecOf(contentType: string | undefined): Codec | undefined {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/grpc' || mediaType === 'application/grpc+proto') return 'proto';
  if (mediaType === 'application/grpc+json') return 'json';
  return undefined;
}

/**
 * One unary gRPC call on an HTTP/2 stream: its metadata, its request message, and its one
 * answer (a message and `grpc-status: 0` in trailers, or a Trailers-Only error). Whatever comes
 * second (a late result after the deadline answered) is dropped.
 */
export class GrpcServerCall {
  /** The status sent, once answered. */
  status?: number;
  /** grpc-timeout in ms, or the error that refuses a malformed one (thrown by check()). */
  readonly timeout: number | ConnectError | undefined;

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
    readonly codec: Codec,
    readonly requestId: string,
  ) {
    try {
      this.timeout = grpcTimeoutMs(headers['grpc-timeout']);
    } catch (error) {
      this.timeout = error as ConnectError;
    }
  }

  /** Refuses what the call's headers ask and this server lacks (a ConnectError). */
  check(): void {
    if (typeof this.timeout === 'object') throw this.timeout;
    grpcCompressionOf(this.headers['grpc-encoding']);
  }

  get authorization(): string | undefined {
    const value = this.headers.authorization;
    return Array.isArray(value) ? value[0] : value;
  }

  readMessage(maxBytes: number, deadlineMs: number): Promise<Buffer> {
    return readUnaryMessage(this.stream, grpcCompressionOf(this.headers['grpc-encoding']), maxBytes, deadlineMs);
  }

  get answered(): boolean {
    return this.status !== undefined || this.stream.closed || this.stream.destroyed;
  }

  succeed(message: Uint8Array): void {
    if (this.answered) return;
    this.status = GRPC_STATUS.ok;
    this.stream.once('wantTrailers', () => this.stream.sendTrailers({ 'grpc-status': '0' }));
    this.stream.respond({ ...this.responseHeaders(), 'grpc-accept-encoding': 'gzip,identity' }, { waitForTrailers: true });
    this.stream.end(frameMessage(message));
  }

  /**
   * A Trailers-Only answer. When the request is not read to its end (refused before or while it
   * was read), the stream is then reset with NO_ERROR, which tells the client to stop sending
   * (RFC 9113, 8.1) instead of holding the stream open with unread data.
   */
  fail(error: ConnectError): void {
    if (this.answered) return;
    this.status = GRPC_STATUS[error.code];
    const headers: OutgoingHttpHeaders = {
      ...this.responseHeaders(),
      ...error.headers,
      'grpc-status': String(this.status),
      'grpc-message': encodeStatusMessage(error.message),
    };
    this.stream.respond(headers, { endStream: true });
    if (!this.stream.readableEnded) this.stream.close(constants.NGHTTP2_NO_ERROR);
  }

  private responseHeaders(): OutgoingHttpHeaders {
    return {
      ':status': 200,
      'content-type': this.codec === 'json' ? 'application/grpc+json' : 'application/grpc+proto',
      'x-request-id': this.requestId,
    };
  }
}
