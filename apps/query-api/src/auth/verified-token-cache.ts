import type { MerchantPrincipal } from '@app/access';

interface Entry {
  principal: MerchantPrincipal;
  /** Epoch milliseconds of the token's `exp`: the entry is used strictly before it. */
  expiresAt: number;
}

/**
 * Tokens already verified, keyed by the whole token string, so that a client
 * sending the same bearer token again costs a map look-up instead of an HMAC
 * and a JSON decode. Only successful verifications are kept, and only until
 * the token's `exp` (verification accepts a token up to 30 s of clock skew
 * past it; past `exp` the token is simply verified again, so every decision is
 * the verifier's own). Least recently used entries go first beyond `maxEntries`.
 * A token is only a key: it cannot be forged into a hit without being
 * byte-for-byte a token that verified under the same secret.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(token: string): MerchantPrincipal | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    this.entries.delete(token);
    if (this.now() >= entry.expiresAt) return undefined;
    // Re-inserted: Map iteration order is insertion order, so the oldest key is the least recently used.
    this.entries.set(token, entry);
    return entry.principal;
  }

  /** Remembers a token that has just been verified; `exp` is its claim, in epoch seconds. */
  set(token: string, principal: MerchantPrincipal, exp: number): void {
    const expiresAt = exp * 1000;
    if (!Number.isFinite(expiresAt) || this.now() >= expiresAt || this.maxEntries <= 0) return;
    this.entries.delete(token);
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { principal, expiresAt });
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The `exp` claim of a verified token, in epoch seconds; NaN when it cannot be read (the token is then not cached). */
export function expiryOf(token: string): number {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown } | null;
    return typeof claims?.exp === 'number' ? claims.exp : NaN;
  } catch {
    return NaN;
  }
}
