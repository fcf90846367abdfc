import { sql, type Kysely } from 'kysely';
import type { Database } from '@app/database';
import { MAX_TOKEN_TTL_SECONDS, MerchantTokenError, TOKEN_CLOCK_TOLERANCE_SECONDS, validTokenId } from './merchant-tokens.js';

/**
 * Announced by a trigger on access.revoked_tokens (migration 2026-12-02T03-00)
 * with the jti of each revocation.
 */
export const TOKEN_REVOCATION_CHANNEL = 'token_revoked';

/**
 * Most unexpired revocations at a time. Each query API process holds them
 * all in memory (about 100 bytes each: 10 MB at most); a leak large enough to
 * need more calls for rotating the key instead (docs/security.md).
 */
export const MAX_REVOKED_TOKENS = 100_000;

const MAX_REASON_LENGTH = 500;
/** Rows expired this long ago are deleted when a token is revoked: no verifier can need them any more. */
const PRUNE_AFTER = '1 hour';

export interface TokenRevocation {
  jti: string;
  /**
   * When the token expires (its `exp`): the row is needed until then. Default:
   * the longest life the ops CLI signs a token for (366 days) from now.
   */
  expiresAt?: Date;
  reason?: string;
}

/**
 * Revokes a token by its `jti`: every query API refuses it within seconds.
 * Revoking it again keeps the later expiry. Deletes rows expired an hour ago
 * or more. Refuses an expiry in the past (the token is refused already) or
 * further ahead than any token lives, and more than MAX_REVOKED_TOKENS
 * unexpired revocations.
 */
export async function revokeMerchantToken(db: Kysely<Database>, revocation: TokenRevocation, now = new Date()): Promise<{ expiresAt: Date }> {
  const { jti, reason } = revocation;
  if (!validTokenId(jti)) throw new MerchantTokenError('invalid token id (jti): 1 to 128 printable characters without spaces');
  const longest = now.getTime() + (MAX_TOKEN_TTL_SECONDS + TOKEN_CLOCK_TOLERANCE_SECONDS) * 1000;
  const expiresAt = revocation.expiresAt ?? new Date(longest);
  if (Number.isNaN(expiresAt.getTime())) throw new MerchantTokenError('invalid expiry');
  if (expiresAt.getTime() + TOKEN_CLOCK_TOLERANCE_SECONDS * 1000 <= now.getTime()) {
    throw new MerchantTokenError(`a token expiring at ${expiresAt.toISOString()} is refused already; nothing to revoke`);
  }
  if (expiresAt.getTime() > longest) {
    throw new MerchantTokenError(`no token lives beyond ${new Date(longest).toISOString()}; give the token's own expiry (its exp)`);
  }
  if (reason !== undefined && reason.length > MAX_REASON_LENGTH) throw new MerchantTokenError(`a reason has at most ${MAX_REASON_LENGTH} characters`);

  return db.transaction().execute(async (trx) => {
    await sql`delete from access.revoked_tokens where expires_at < now() - ${PRUNE_AFTER}::interval`.execute(trx);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from access.revoked_tokens where expires_at > now() and jti <> ${jti}`.execute(trx);
    if (rows[0]!.n >= MAX_REVOKED_TOKENS) {
      throw new MerchantTokenError(`${MAX_REVOKED_TOKENS} tokens are revoked already, the most the query API holds; rotate the signing key instead`);
    }
    const stored = await sql<{ expires_at: Date }>`
      insert into access.revoked_tokens (jti, expires_at, reason) values (${jti}, ${expiresAt}, ${reason ?? null})
      on conflict (jti) do update
        set expires_at = greatest(revoked_tokens.expires_at, excluded.expires_at),
            reason = coalesce(excluded.reason, revoked_tokens.reason)
      returning expires_at`.execute(trx);
    return { expiresAt: stored.rows[0]!.expires_at };
  });
}
