import { MerchantTokenError, verifyMerchantTokenDetails, type MerchantPrincipal, type MerchantTokenKeys } from '@app/access';
import { ErrorCode } from '../errors/error-codes.js';
import type { RevocationCheck } from './revocation-list.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** What the cache keeps of a verified token. */
export interface KnownToken {
  principal: MerchantPrincipal;
  jti: string;
}

/** A request let in, or why not: the status, code, message and headers each API renders its own way. */
export type Authentication =
  | { principal: MerchantPrincipal; refusal?: undefined }
  | { principal?: undefined; refusal: { status: 401 | 503; code: ErrorCode; message: string; headers: Record<string, string> } };

/**
 * The one check of a bearer token, for GraphQL and REST alike: the token
 * verified (signature by its `kid`, `exp`, `jti`), then looked up in the
 * revocation list; while that list cannot be checked, every token is refused
 * with 503 (UNAVAILABLE) rather than checked against an old list. The token
 * is never logged; the message says only what was wrong. Verified tokens are
 * remembered until their expiry (VerifiedTokenCache): clients send the same
 * token with every request, whichever API they ask.
 */
export class BearerAuthenticator {
  constructor(
    private readonly keys: MerchantTokenKeys,
    private readonly revocations: RevocationCheck,
    private readonly cache = new VerifiedTokenCache<KnownToken>(),
  ) {}

  authenticate(authorization: string | undefined): Authentication {
    try {
      const token = BEARER.exec(authorization ?? '')?.[1];
      if (!token) throw new MerchantTokenError('missing "Authorization: Bearer <token>" header');
      let known = this.cache.get(token);
      if (known === undefined) {
        const verified = verifyMerchantTokenDetails(this.keys, token);
        known = { principal: verified.principal, jti: verified.jti };
        this.cache.set(token, known, verified.exp);
      }
      if (this.revocations.isRevoked(known.jti)) throw new MerchantTokenError('token has been revoked');
      const unavailable = this.revocations.unavailable();
      if (unavailable !== undefined) {
        return { refusal: { status: 503, code: ErrorCode.UNAVAILABLE, message: unavailable, headers: { 'retry-after': '5' } } };
      }
      return { principal: known.principal };
    } catch (error) {
      if (!(error instanceof MerchantTokenError)) throw error;
      // RFC 6750: tell the client which scheme to use, and that the token it sent was refused.
      const challenge = authorization ? 'Bearer realm="query-api", error="invalid_token"' : 'Bearer realm="query-api"';
      return { refusal: { status: 401, code: ErrorCode.UNAUTHENTICATED, message: error.message, headers: { 'www-authenticate': challenge } } };
    }
  }
}
