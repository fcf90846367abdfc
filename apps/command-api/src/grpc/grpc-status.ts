import type { ConnectCode } from '../connect/connect-error.js';

/**
 * The gRPC status number of each code (grpc/grpc, doc/statuscodes.md). Connect's codes are
 * gRPC's under their names, so an error made once answers both protocols.
 */
export const GRPC_STATUS: Readonly<Record<ConnectCode | 'ok', number>> = {
  ok: 0,
  canceled: 1,
  unknown: 2,
  invalid_argument: 3,
  deadline_exceeded: 4,
  not_found: 5,
  already_exists: 6,
  permission_denied: 7,
  resource_exhausted: 8,
  failed_precondition: 9,
  aborted: 10,
  out_of_range: 11,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  data_loss: 15,
  unauthenticated: 16,
};

/**
 * Most bytes of `grpc-message`, percent-encoded. grpc-java refuses metadata over 8 KiB by default
 * (headers and trailers each), so a longer message would reach a Java producer as a transport
 * error instead of the list of what to fix.
 */
export const MAX_STATUS_MESSAGE_BYTES = 6144;

/**
 * `grpc-message` as the protocol wants it: UTF-8, with `%` and every byte outside printable ASCII
 * percent-encoded. A message that would exceed MAX_STATUS_MESSAGE_BYTES is cut after its last
 * whole `; `-separated item that fits, and says so.
 */
export function encodeStatusMessage(message: string): string {
  const whole = percentEncode(message);
  if (whole.length <= MAX_STATUS_MESSAGE_BYTES) return whole;
  const suffix = percentEncode(`; … (cut to ${MAX_STATUS_MESSAGE_BYTES} bytes for gRPC metadata: send fewer events per request to see every error)`);
  const budget = MAX_STATUS_MESSAGE_BYTES - suffix.length;
  let kept = '';
  let size = 0;
  for (const char of message) {
    const encoded = percentEncode(char);
    if (size + encoded.length > budget) break;
    kept += encoded;
    size += encoded.length;
  }
  const lastItem = kept.lastIndexOf('; ');
  return `${lastItem > 0 ? kept.slice(0, lastItem) : kept}${suffix}`;
}

function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
