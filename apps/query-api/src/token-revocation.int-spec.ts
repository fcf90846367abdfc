import { afterEach, describe, expect, it } from 'vitest';
import { revokeMerchantToken } from '@app/access';
import { createKysely } from '@app/database';
import { eventually } from '@app/testing';
import { startQueryApiHarness, type QueryApiHarness } from './testing/query-api-harness.js';

const TYPENAME = '{ __typename }';
const ANSWERED = { status: 200, body: { data: { __typename: 'Query' } } };
const REVOKED = {
  status: 401,
  challenge: 'Bearer realm="query-api", error="invalid_token"',
  body: { data: null, errors: [{ message: 'token has been revoked', extensions: { code: 'UNAUTHENTICATED' } }] },
};

/** The jti as the token carries it, read without the code under test. */
function jtiOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string }).jti;
}

describe('token revocation', () => {
  let h: QueryApiHarness | undefined;

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function answer(token: string) {
    const res = await h!.graphql(TYPENAME, {}, { token });
    return { status: res.status, body: res.body };
  }

  async function refusal(token: string) {
    const res = await h!.graphql(TYPENAME, {}, { token });
    return { status: res.status, challenge: res.headers.get('www-authenticate'), body: res.body };
  }

  /** What `ops tokens revoke JTI` runs. */
  async function revoke(token: string): Promise<void> {
    const expiresAt = new Date((JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000);
    await revokeMerchantToken(createKysely(h!.pool), { jti: jtiOf(token), expiresAt, reason: 'test' });
  }

  it('refuses a revoked token within 2 s, although it was verified and cached, while another token still works', async () => {
    // Read in full once a minute only: the announcement is what makes it quick.
    h = await startQueryApiHarness({}, { revocations: { reloadMs: 60_000 } });
    const revoked = await h.token({ kind: 'merchant', merchantId: 'm-1' });
    const kept = await h.token({ kind: 'merchant', merchantId: 'm-1' });
    expect(jtiOf(revoked)).not.toBe(jtiOf(kept));
    for (const token of [revoked, kept, revoked]) expect(await answer(token)).toEqual(ANSWERED);

    await revoke(revoked);
    const revokedAt = Date.now();
    await eventually(async () => expect(await refusal(revoked)).toEqual(REVOKED), 2000, 20);
    expect(Date.now() - revokedAt).toBeLessThan(2000);
    expect(await answer(kept)).toEqual(ANSWERED);
    expect(await refusal(revoked)).toEqual(REVOKED);
    const { rows } = await h.pool.query('select jti, reason from access.revoked_tokens');
    expect(rows).toEqual([{ jti: jtiOf(revoked), reason: 'test' }]);
  });

  it('honours a revocation made while its LISTEN connection was lost, within 5 s, and listens again', async () => {
    h = await startQueryApiHarness({}, { revocations: { reloadMs: 60_000 } });
    const [first, second, kept] = [await h.token({ kind: 'ops' }), await h.token({ kind: 'ops' }), await h.token({ kind: 'ops' })];
    for (const token of [first, second, kept]) expect(await answer(token)).toEqual(ANSWERED);
    const listeners = `select pid from pg_stat_activity where application_name = 'query-api-revocations' and datname = current_database()`;
    const terminated = await h.pool.query(`select pg_terminate_backend(pid) as done from (${listeners}) l`);
    expect(terminated.rows).toEqual([{ done: true }]);

    await revoke(first);
    await eventually(async () => expect(await refusal(first)).toEqual(REVOKED), 5000, 50);
    expect(await answer(kept)).toEqual(ANSWERED);
    await eventually(async () => expect((await h!.pool.query(listeners)).rowCount).toBe(1), 5000, 50);

    // Listening again: heard at once, not at the next full read a minute away.
    await revoke(second);
    await eventually(async () => expect(await refusal(second)).toEqual(REVOKED), 2000, 20);
    expect(await answer(kept)).toEqual(ANSWERED);
  });

  it('honours a revocation it was never told about at the next full read', async () => {
    h = await startQueryApiHarness({}, { revocations: { reloadMs: 500 } });
    const revoked = await h.token({ kind: 'merchant', merchantId: 'm-9' });
    const kept = await h.token({ kind: 'merchant', merchantId: 'm-9' });
    expect(await answer(revoked)).toEqual(ANSWERED);
    // Triggers off for this session: no announcement, as if it had been missed.
    const client = await h.pool.connect();
    try {
      await client.query('set session_replication_role = replica');
      await client.query(`insert into access.revoked_tokens (jti, expires_at) values ($1, now() + interval '1 hour')`, [jtiOf(revoked)]);
      await client.query('reset session_replication_role');
    } finally {
      client.release();
    }
    await eventually(async () => expect(await refusal(revoked)).toEqual(REVOKED), 5000, 50);
    expect(await answer(kept)).toEqual(ANSWERED);
  });

  it('refuses every token with 503 while the list cannot be read, and accepts them again once it can', async () => {
    h = await startQueryApiHarness({}, { revocations: { reloadMs: 200, staleAfterMs: 1000 } });
    const token = await h.token({ kind: 'ops' });
    expect(await answer(token)).toEqual(ANSWERED);
    await h.pool.query('alter table access.revoked_tokens rename to revoked_tokens_away');
    try {
      await eventually(async () => {
        const res = await h!.graphql(TYPENAME, {}, { token });
        expect({ status: res.status, retryAfter: res.headers.get('retry-after'), body: res.body }).toEqual({
          status: 503,
          retryAfter: '5',
          body: { data: null, errors: [{ message: 'token revocations cannot be checked at the moment; retry later', extensions: { code: 'UNAVAILABLE' } }] },
        });
      }, 5000, 50);
    } finally {
      await h.pool.query('alter table access.revoked_tokens_away rename to revoked_tokens');
    }
    await eventually(async () => expect(await answer(token)).toEqual(ANSWERED), 5000, 50);
  });
});
