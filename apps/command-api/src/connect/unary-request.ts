import type { IncomingMessage } from 'node:http';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { ConnectError } from './connect-error.js';

const gunzipAsync = promisify(gunzip);

export type Codec = 'json' | 'proto';

const SUPPORTED_MEDIA_TYPES = 'application/json, application/proto';
const SUPPORTED_ENCODINGS = 'gzip';

/**
 * The codec a Connect unary request asks for, from its Content-Type. The
 * protocol requires HTTP 415 for a codec the server lacks. Accept-Post names
 * the accepted types, as connect-go does; the body is still a Connect error, so
 * a person with curl reads what to send (code invalid_argument, as grpc-go
 * answers a wrong content type).
 */
export function codecOf(contentType: string | undefined): Codec {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType === 'application/json') return 'json';
  if (mediaType === 'application/proto') return 'proto';
  throw new ConnectError(
    'invalid_argument',
    mediaType
      ? `unsupported Content-Type "${mediaType}": send application/json or application/proto`
      : 'missing Content-Type: send application/json or application/proto',
    { httpStatus: 415, headers: { 'accept-post': SUPPORTED_MEDIA_TYPES } },
  );
}

export function checkProtocolVersion(header: string | string[] | undefined): void {
  if (header !== undefined && header !== '1') {
    throw new ConnectError('invalid_argument', `unsupported Connect-Protocol-Version "${String(header)}": expected "1"`);
  }
}

/**
 * Reads the whole body, refusing it as soon as it exceeds maxBytes (before and
 * after decompression), so an oversized or zip-bomb request costs little, and
 * cutting it when it has not arrived within `deadlineMs`, so a client sending
 * slowly cannot hold a request slot for long.
 */
export async function readBody(request: IncomingMessage, maxBytes: number, deadlineMs = Infinity): Promise<Buffer> {
  if (!Number.isFinite(deadlineMs)) return readWholeBody(request, maxBytes);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      request.destroy();
      reject(new ConnectError('deadline_exceeded', `request body not received within ${deadlineMs / 1000} s`));
    }, deadlineMs);
  });
  try {
    return await Promise.race([readWholeBody(request, maxBytes), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function readWholeBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    // The protocol's answer to an unknown compression: unimplemented, naming the supported ones.
    throw new ConnectError('unimplemented', `unsupported Content-Encoding "${encoding}": use gzip or identity`, {
      headers: { 'accept-encoding': SUPPORTED_ENCODINGS },
    });
  }
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(declared, maxBytes);

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      request.destroy();
      throw tooLarge(size, maxBytes);
    }
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks, size);
  if (encoding === 'identity') return body;
  try {
    return await gunzipAsync(body, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBytes + 1, maxBytes);
    throw new ConnectError('invalid_argument', 'request body is not valid gzip');
  }
}

function tooLarge(size: number, maxBytes: number): ConnectError {
  return new ConnectError('resource_exhausted', `request body of ${size}+ bytes exceeds the limit of ${maxBytes} bytes`);
}
