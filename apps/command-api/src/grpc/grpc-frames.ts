import type { Readable } from 'node:stream';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { ConnectError } from '../connect/connect-error.js';

const gunzipAsync = promisify(gunzip);

/** What `grpc-encoding` may say for a request's messages. */
export type GrpcCompression = 'identity' | 'gzip';

export const SUPPORTED_GRPC_ENCODINGS = 'gzip,identity';

const PREFIX_BYTES = 5;

/** One length-prefixed message: a flag byte (0: not compressed), a 4-byte big-endian length, the message. */
export function frameMessage(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(PREFIX_BYTES + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, PREFIX_BYTES);
  return framed;
}

/**
 * The one message of a unary call's request stream, inflated. Refused as soon as its prefix
 * declares more than `maxBytes` (before reading it) or it inflates past them, when anything
 * follows it, and when it has not arrived within `deadlineMs`.
 */
export async function readUnaryMessage(stream: Readable, compression: GrpcCompression, maxBytes: number, deadlineMs: number): Promise<Buffer> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectError('deadline_exceeded', `request message not received within ${deadlineMs / 1000} s`)), deadlineMs);
  });
  try {
    return await Promise.race([readFramed(stream, compression, maxBytes), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function readFramed(stream: Readable, compression: GrpcCompression, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let expected = Infinity;
  // Leaving the loop early must not destroy the stream: the refusal is still to be sent on it.
  const iterator = stream.iterator({ destroyOnReturn: false }) as AsyncIterableIterator<Buffer>;
  try {
    for await (const chunk of { [Symbol.asyncIterator]: () => iterator }) {
      chunks.push(chunk);
      size += chunk.length;
      if (expected === Infinity && size >= PREFIX_BYTES) {
        const length = (chunks.length === 1 ? chunk : Buffer.concat(chunks, size)).readUInt32BE(1);
        if (length > maxBytes) throw tooLarge(length, maxBytes);
        expected = PREFIX_BYTES + length;
      }
      if (size > expected) throw new ConnectError('invalid_argument', 'a unary call takes one request message: more data followed it');
    }
  } catch (error) {
    if (error instanceof ConnectError) throw error;
    throw new ConnectError('canceled', `the call ended before its request message arrived (${(error as Error).message})`);
  }
  if (size === 0) throw new ConnectError('invalid_argument', 'missing request message: a unary call takes exactly one');
  if (size < expected) throw new ConnectError('invalid_argument', `request message cut short: ${size} of ${expected === Infinity ? PREFIX_BYTES : expected} bytes received`);
  const framed = Buffer.concat(chunks, size);
  const flag = framed[0];
  const message = framed.subarray(PREFIX_BYTES);
  if (flag === 0) return message;
  if (flag !== 1) throw new ConnectError('invalid_argument', `unknown message flags 0x${flag.toString(16)}`);
  if (compression === 'identity') throw new ConnectError('invalid_argument', 'message marked compressed, but the call has no grpc-encoding');
  try {
    return await gunzipAsync(message, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBytes + 1, maxBytes, '+');
    throw new ConnectError('invalid_argument', 'request message is not valid gzip');
  }
}

function tooLarge(size: number, maxBytes: number, more = ''): ConnectError {
  return new ConnectError('resource_exhausted', `request message of ${size}${more} bytes exceeds the limit of ${maxBytes} bytes`);
}

const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/** `grpc-timeout` (1 to 8 digits and a unit, H M S m u n) in ms; undefined when absent. */
export function grpcTimeoutMs(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = typeof header === 'string' ? /^(\d{1,8})([HMSmun])$/.exec(header) : null;
  if (!match) throw new ConnectError('invalid_argument', `malformed grpc-timeout "${String(header)}": expected 1 to 8 digits and a unit of H, M, S, m, u or n`);
  return Number(match[1]) * TIMEOUT_UNIT_MS[match[2]!]!;
}

/** `grpc-encoding` of a request; anything else is unimplemented, naming what is. */
export function grpcCompressionOf(header: string | string[] | undefined): GrpcCompression {
  const encoding = String(header ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === 'gzip') return encoding;
  throw new ConnectError('unimplemented', `unsupported grpc-encoding "${encoding}": use gzip or identity`, {
    headers: { 'grpc-accept-encoding': SUPPORTED_GRPC_ENCODINGS },
  });
}
