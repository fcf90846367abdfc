import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKysely, createPool, type Database } from '@app/database';
import { testDatabase, type TestDatabase } from '@app/testing';
import { MerchantTokenError } from './merchant-tokens.js';
import { revokeMerchantToken, TOKEN_REVOCATION_CHANNEL } from './revoked-tokens.js';

const NOW = new Date();
const inHours = (hours: number) => new Date(NOW.getTime() + hours * 3_600_000);

describe('revokeMerchantToken', () => {
  let database: TestDatabase;
  let db: Kysely<Database>;

  beforeAll(async () => {
    database = await testDatabase();
    db = createKysely(createPool({ connectionString: database.url, max: 2 }));
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  const rows = async () =>
    (await sql<{ jti: string; expires_at: Date; reason: string | null }>`select jti, expires_at, reason from access.revoked_tokens order by jti`.execute(db)).rows;

  it('stores the jti until its expiry, announces it, and keeps the later expiry when revoked again', async () => {
    const listener = new pg.Client({ connectionString: database.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => heard.push(`${n.channel} ${n.payload}`));
    await listener.query(`listen ${TOKEN_REVOCATION_CHANNEL}`);
    try {
      expect(await revokeMerchantToken(db, { jti: 'j-one', expiresAt: inHours(2), reason: 'leaked in a log' }, NOW)).toEqual({ expiresAt: inHours(2) });
      expect(await revokeMerchantToken(db, { jti: 'j-one', expiresAt: inHours(1) }, NOW)).toEqual({ expiresAt: inHours(2) });
      const [row] = await rows();
      expect([row!.jti, row!.expires_at, row!.reason]).toEqual(['j-one', inHours(2), 'leaked in a log']);
      await listener.query('select 1');
      expect(heard).toEqual(['token_revoked j-one', 'token_revoked j-one']);
    } finally {
      await listener.end();
    }
  });

  it('expires by default when the longest-lived token would (366 days and 30 s)', async () => {
    const { expiresAt } = await revokeMerchantToken(db, { jti: 'j-default' }, NOW);
    expect(expiresAt).toEqual(new Date(NOW.getTime() + (366 * 86_400 + 30) * 1000));
  });

  it('refuses a bad jti, an expiry already past or beyond any token life, and a long reason', async () => {
    const refusal = (revocation: Parameters<typeof revokeMerchantToken>[1]) =>
      revokeMerchantToken(db, revocation, NOW).then(
        () => 'accepted',
        (e: unknown) => (e instanceof MerchantTokenError ? e.message : `unexpected ${String(e)}`),
      );
    expect(await refusal({ jti: 'has space' })).toBe('invalid token id (jti): 1 to 128 printable characters without spaces');
    expect(await refusal({ jti: 'x'.repeat(129) })).toBe('invalid token id (jti): 1 to 128 printable characters without spaces');
    const past = new Date(NOW.getTime() - 31_000);
    expect(await refusal({ jti: 'j-past', expiresAt: past })).toBe(`a token expiring at ${past.toISOString()} is refused already; nothing to revoke`);
    const longest = new Date(NOW.getTime() + (366 * 86_400 + 30) * 1000);
    expect(await refusal({ jti: 'j-far', expiresAt: new Date(longest.getTime() + 1) })).toBe(
      `no token lives beyond ${longest.toISOString()}; give the token's own expiry (its exp)`,
    );
    expect(await refusal({ jti: 'j-reason', expiresAt: inHours(1), reason: 'r'.repeat(501) })).toBe('a reason has at most 500 characters');
    expect((await rows()).map((r) => r.jti)).toEqual(['j-default', 'j-one']);
  });

  it('is readable by the query API\'s group role (read_model_reader), which cannot write it', async () => {
    const asReader = (statement: string) =>
      db.transaction().execute(async (trx) => {
        await sql`set local role read_model_reader`.execute(trx);
        return sql.raw(statement).execute(trx).then(() => 'ok', (e: { code?: string }) => e.code);
      });
    expect(await asReader('select jti from access.revoked_tokens')).toBe('ok');
    expect(await asReader(`insert into access.revoked_tokens (jti, expires_at) values ('j-reader', now())`)).toBe('42501');
    expect(await asReader(`delete from access.revoked_tokens`)).toBe('42501');
  });

  it('deletes rows expired an hour ago or more when it revokes', async () => {
    await db.transaction().execute(async (trx) => {
      for (const [jti, ago] of [['j-old', '2 hours'], ['j-recent', '10 minutes']]) {
        await sql`insert into access.revoked_tokens (jti, expires_at) values (${jti}, now() - ${ago}::interval)`.execute(trx);
      }
    });
    await revokeMerchantToken(db, { jti: 'j-new', expiresAt: inHours(1) }, NOW);
    expect((await rows()).map((r) => r.jti)).toEqual(['j-default', 'j-new', 'j-one', 'j-recent']);
  });
});
