import type { MerchantPrincipal } from '@app/access';

interface Entry<T> {
  value: T;
  /** Epoch milliseconds of the token's `exp`: the entry is used strictly before it. */
  expiresAt: number;
}

/**
 * Tokens already verified, keyed by the whole token string, so that a client
 * sending the same bearer token again costs a map look-up instead of an HMAC
 * and a JSON decode. Only successful verifications are kept (what the token
 * grants, and its id, which is checked against the revocation list on every
 * request, hit or not), and only until the token's `exp` (verification
 * accepts a token up to 30 s of clock skew past it; past `exp` the token is
 * simply verified again, so every decision is the verifier's own). Least
 * recently used entries go first beyond `maxEntries`. A token is only a key:
 * it cannot be forged into a hit without being byte-for-byte a token that
 * verified under the same key.
 */
export class VerifiedTokenCache<T = MerchantPrincipal> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    this.entries.delete(token);
    if (this.now() >= entry.expiresAt) return undefined;
    // Re-inserted: Map iteration order is insertion order, so the oldest key is the least recently used.
    this.entries.set(token, entry);
    return entry.value;
  }

  /** Remembers a token that has just been verified; `exp` is its claim, in epoch seconds. */
  set(token: string, value: T, exp: number): void {
    const expiresAt = exp * 1000;
    if (!Number.isFinite(expiresAt) || this.now() >= expiresAt || this.maxEntries <= 0) return;
    this.entries.delete(token);
    while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { value, expiresAt });
  }

  get size(): number {
    return this.entries.size;
  }
}
