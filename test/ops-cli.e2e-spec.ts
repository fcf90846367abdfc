import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '@app/testing';
import { startQueryApiHarness } from '../apps/query-api/src/testing/query-api-harness.js';
import { ops } from './support/ops-cli.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

describe('ops CLI', () => {
  let database: TestDatabase;
  let client: pg.Client;
  let env: Record<string, string>;
  // Unique per run so the assertions cannot pass on rows a previous run left behind.
  const appName = `checkout-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    database = await testDatabase();
    env = { DATABASE_URL: database.url };
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  it('apps create prints the key last and stores only its SHA-256', async () => {
    const result = await ops(['apps', 'create', appName], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const key = lastLine(result.stdout);
    // "pk_" and 32 random bytes in base64url (43 characters, no padding).
    expect(key).toMatch(/^pk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(3), 'base64url')).toHaveLength(32);

    const { rows } = await client.query<{ name: string; key_hash: Buffer; revoked_at: Date | null }>(
      'select name, key_hash, revoked_at from access.producer_apps where name = $1',
      [appName],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.key_hash.equals(createHash('sha256').update(key, 'utf8').digest())).toBe(true);
    expect(rows[0]!.revoked_at).toBeNull();

    // Every column of every row, as text (bytea as hex, so a hash of the key would not match either).
    const everything = await client.query<{ row: string }>('select t::text as row from access.producer_apps t');
    expect(everything.rows.length).toBeGreaterThan(0);
    for (const { row } of everything.rows) {
      expect(row).not.toContain(key);
      expect(row).not.toContain(key.slice(3));
    }
  });

  it('apps create refuses a name that is taken, with exit code 1 and one clear line', async () => {
    const result = await ops(['apps', 'create', appName], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe(`ops: a producer app named "${appName}" already exists`);
    const { rows } = await client.query('select 1 from access.producer_apps where name = $1', [appName]);
    expect(rows).toHaveLength(1);
  });

  it('apps create refuses an invalid name and stores nothing', async () => {
    const before = await client.query('select count(*)::int as n from access.producer_apps');
    const result = await ops(['apps', 'create', 'bad name!'], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toMatch(/^ops: invalid app name "bad name!"/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    const after = await client.query('select count(*)::int as n from access.producer_apps');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('apps list shows the app, and apps revoke revokes it once', async () => {
    const listed = await ops(['apps', 'list'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${appName}\\s+active\\s`, 'm'));

    const revoked = await ops(['apps', 'revoke', appName], env);
    expect(revoked.code).toBe(0);
    const { rows } = await client.query<{ revoked_at: Date | null }>('select revoked_at from access.producer_apps where name = $1', [appName]);
    expect(rows[0]!.revoked_at).toBeInstanceOf(Date);

    const again = await ops(['apps', 'revoke', appName], env);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`ops: no active producer app named "${appName}"`);
  });

  it('tokens merchant prints, as its last line, an HS256 token for that merchant that expires in 24 hours and the query API accepts', async () => {
    const secret = `ops-e2e-secret-${randomBytes(12).toString('hex')}`;
    const before = Math.floor(Date.now() / 1000);
    const result = await ops(['tokens', 'merchant', 'm-tok-1'], { MERCHANT_JWT_SECRET: secret, DATABASE_URL: undefined });
    const after = Math.floor(Date.now() / 1000);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(secret);
    const token = lastLine(result.stdout);

    // Verified with jose and the secret alone, not with the code that signed it.
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ['HS256'], issuer: 'merchant-payment-analytics', audience: 'query-api',
    });
    expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'default' });
    const { iat, exp, jti, ...claims } = payload;
    expect(claims).toEqual({ merchantId: 'm-tok-1', sub: 'm-tok-1', iss: 'merchant-payment-analytics', aud: 'query-api' });
    expect(iat).toBeGreaterThanOrEqual(before);
    expect(iat).toBeLessThanOrEqual(after);
    expect(exp! - iat!).toBe(24 * 3600);
    expect(jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const expires = new Date(exp! * 1000).toISOString();
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      `token for merchant "m-tok-1", expires ${expires}, signed with key "default" from MERCHANT_JWT_SECRET`,
      `jti ${jti} (to revoke it: npm run ops -- tokens revoke ${jti} --expires-at ${expires})`,
      token,
    ]);
    await expect(jwtVerify(token, new TextEncoder().encode(`${secret}-other`))).rejects.toThrow('signature verification failed');

    // The query API with the same secret lets it read m-tok-1 (up to "no live version", past authorization) and nobody else.
    const api = await startQueryApiHarness({ MERCHANT_JWT_SECRET: secret });
    try {
      const query = `query($m: ID!) { merchantMetrics(merchantId: $m, from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", granularity: DAY) { totals { currency } } }`;
      const own = await api.graphql(query, { m: 'm-tok-1' }, { token });
      expect(own.status).toBe(200);
      expect(own.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        ['UNAVAILABLE', 'the metrics read model has no live version yet; retry later'],
      ]);
      const other = await api.graphql(query, { m: 'm-tok-2' }, { token });
      expect(other.body.data).toBeNull();
      expect(other.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
        ['FORBIDDEN', 'this token may read merchant "m-tok-1" only'],
      ]);
    } finally {
      await api.close();
    }
  });

  it('tokens merchant --link prints the dashboard sign-in link last, the token in its fragment, at QUERY_API_URL or the running local stack', async () => {
    const secret = `ops-e2e-secret-${randomBytes(12).toString('hex')}`;
    const given = await ops(['tokens', 'merchant', 'm-link-1', '--link'], { MERCHANT_JWT_SECRET: secret, QUERY_API_URL: 'https://analytics.example.com', DATABASE_URL: undefined });
    expect(given.stderr).toBe('');
    expect(given.code).toBe(0);
    const [token, link] = given.stdout.trimEnd().split('\n').slice(-2);
    expect(link).toBe(`https://analytics.example.com/dashboard#token=${token}`);
    expect((await jwtVerify(token!, new TextEncoder().encode(secret))).payload.merchantId).toBe('m-link-1');

    // Without QUERY_API_URL: the URL and the secret that npm start wrote in its state file.
    const dataDir = mkdtempSync(join(tmpdir(), 'ops-link-'));
    try {
      const stackSecret = `stack-secret-${randomBytes(12).toString('hex')}`;
      writeFileSync(join(dataDir, 'local-stack.json'), JSON.stringify({ queryApiUrl: 'http://127.0.0.1:14001', merchantJwtSecret: stackSecret }));
      const local = await ops(['tokens', 'merchant', 'm-link-2', '--link'], { LOCAL_DATA_DIR: dataDir, DATABASE_URL: undefined, MERCHANT_JWT_SECRET: undefined });
      expect(local.code).toBe(0);
      const [localToken, localLink] = local.stdout.trimEnd().split('\n').slice(-2);
      expect(localLink).toBe(`http://127.0.0.1:14001/dashboard#token=${localToken}`);
      expect((await jwtVerify(localToken!, new TextEncoder().encode(stackSecret))).payload.merchantId).toBe('m-link-2');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }

    const bad = await ops(['tokens', 'merchant', 'm-link-3', '--link'], { MERCHANT_JWT_SECRET: secret, QUERY_API_URL: 'ftp://example.com', DATABASE_URL: undefined });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('ops: QUERY_API_URL: the query API\'s URL must be http or https, got "ftp://example.com"');
  });

  it('tokens signs with the key MERCHANT_JWT_SIGNING_KID names among MERCHANT_JWT_KEYS, and refuses to guess among several', async () => {
    const [old, next] = [`old-${randomBytes(16).toString('hex')}`, `next-${randomBytes(16).toString('hex')}`];
    const keys = { MERCHANT_JWT_KEYS: `2026-11:${old},2026-12:${next}`, MERCHANT_JWT_SECRET: undefined, DATABASE_URL: undefined };
    const signed = await ops(['tokens', 'ops', '--ttl', '1h'], { ...keys, MERCHANT_JWT_SIGNING_KID: '2026-12' });
    expect([signed.code, signed.stderr]).toEqual([0, '']);
    const { protectedHeader } = await jwtVerify(lastLine(signed.stdout), new TextEncoder().encode(next), { algorithms: ['HS256'] });
    expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT', kid: '2026-12' });
    expect(signed.stdout).toContain('signed with key "2026-12" from MERCHANT_JWT_KEYS');
    const unnamed = await ops(['tokens', 'ops'], keys);
    expect([unnamed.code, unnamed.stdout, unnamed.stderr.trim()]).toEqual([
      1, '', 'ops: several keys are configured (2026-11, 2026-12); name the one to sign with in MERCHANT_JWT_SIGNING_KID',
    ]);
  });

  it('tokens revoke stores the jti until the expiry given, and refuses an expiry that is not ISO 8601', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000);
    const revoked = await ops(['tokens', 'revoke', 'e2e-jti-1', '--expires-at', expiresAt.toISOString(), '--reason', 'leaked'], env);
    expect([revoked.code, revoked.stderr, lastLine(revoked.stdout)]).toEqual([
      0, '', `revoked token e2e-jti-1 until ${expiresAt.toISOString()}; query APIs refuse it within seconds`,
    ]);
    const { rows } = await client.query<{ expires_at: Date; reason: string }>('select expires_at, reason from access.revoked_tokens where jti = $1', ['e2e-jti-1']);
    expect(rows).toEqual([{ expires_at: expiresAt, reason: 'leaked' }]);
    const bad = await ops(['tokens', 'revoke', 'e2e-jti-2', '--expires-at', 'tomorrow'], env);
    expect([bad.code, bad.stderr.trim()]).toEqual([1, 'ops: invalid --expires-at "tomorrow": use an ISO 8601 time with its offset, e.g. 2026-12-03T10:00:00Z']);
  });

  it('db login makes a payments_writer login from LOGIN_PASSWORD, which never shows in its output', async () => {
    const role = `login_${randomBytes(5).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    try {
      const result = await ops(['db', 'login', role, '--member-of', 'payments_writer'], { ...env, LOGIN_PASSWORD: password });
      expect([result.code, result.stderr]).toEqual([0, '']);
      expect(lastLine(result.stdout)).toBe(`login ${role} is a member of payments_writer; connect as it with the password in LOGIN_PASSWORD`);
      expect(result.stdout).not.toContain(password);
      const url = new URL(database.url);
      url.username = role;
      url.password = password;
      const login = new pg.Client({ connectionString: url.toString() });
      await login.connect();
      try {
        const { rows } = await login.query(
          `select current_user as name, r.rolsuper as superuser, array(select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid where m.member = r.oid)::text[] as groups
           from pg_roles r where r.rolname = current_user`,
        );
        expect(rows).toEqual([{ name: role, superuser: false, groups: ['payments_writer'] }]);
        await expect(login.query('delete from event_store.events')).rejects.toThrow('permission denied for table events');
      } finally {
        await login.end();
      }

      const noPassword = await ops(['db', 'login', role, '--member-of', 'payments_writer'], { ...env, LOGIN_PASSWORD: undefined });
      expect([noPassword.code, noPassword.stderr.trim()]).toEqual([1, 'ops: set LOGIN_PASSWORD to the password of the login (it is not taken from the command line, where other users could see it)']);
      const badGroup = await ops(['db', 'login', role, '--member-of', 'postgres'], { ...env, LOGIN_PASSWORD: password });
      expect(badGroup.code).toBe(2);
      expect(badGroup.stderr).toContain('GROUP is one of payments_writer, projection_writer, read_model_reader, analyst, event_archivist');
    } finally {
      await client.query(`drop role if exists ${role}`);
    }
  });

  it('an unknown command exits 2 with the usage on stderr', async () => {
    const result = await ops(['apps', 'frobnicate'], env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('unknown command "apps frobnicate"');
    expect(result.stderr).toContain('usage: npm run ops -- <group> <command>');
  });

  it('without DATABASE_URL and without a running local stack it says how to start one', async () => {
    const emptyDataDir = mkdtempSync(join(tmpdir(), 'ops-no-stack-'));
    try {
      const result = await ops(['apps', 'list'], { DATABASE_URL: undefined, LOCAL_DATA_DIR: emptyDataDir });
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe('ops: no DATABASE_URL and no local stack running: start it with npm start');
    } finally {
      rmSync(emptyDataDir, { recursive: true, force: true });
    }
  });
});
