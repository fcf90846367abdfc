import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, ensureMemberLogin, withClient } from '@app/database';
import { testDatabase, type TestDatabase } from '@app/testing';
import { EventStore } from './event-store.js';
import { sampleEvent } from './testing/sample-events.js';

/** The login the local stack gives the command API: a member of payments_writer and nothing more. */
describe('a writer login (ensureMemberLogin … payments_writer)', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  const role = `writer_${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    database = await testDatabase();
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.query(`drop role if exists ${role}`).catch(() => undefined);
    await admin?.end();
    await database?.drop();
  });

  it('appends events, and can neither change them nor switch the immutability triggers off', async () => {
    const password = randomBytes(12).toString('hex');
    const url = await ensureMemberLogin(database.url, { role, password, memberOf: 'payments_writer' });
    expect(new URL(url).username).toBe(role);

    const pool = createPool({ connectionString: url, max: 2 });
    try {
      const event = sampleEvent({ merchantId: 'm-writer-login' });
      expect(await new EventStore(pool, 16).append([event])).toEqual({ accepted: 1, duplicates: 0 });
      expect((await admin.query(`select merchant_id from event_store.events where event_id = $1`, [event.eventId])).rows).toEqual([{ merchant_id: 'm-writer-login' }]);
    } finally {
      await pool.end();
    }

    await withClient(url, async (writer) => {
      expect((await writer.query(`select current_user as name, rolsuper as superuser from pg_roles where rolname = current_user`)).rows)
        .toEqual([{ name: role, superuser: false }]);
      const refused: Array<[string, RegExp]> = [
        ['update event_store.events set merchant_id = merchant_id', /permission denied for table events/],
        ['alter table event_store.events disable trigger all', /must be owner of table events/],
        ['set session_replication_role = replica', /permission denied to set parameter "session_replication_role"/],
        ['create role sneaky login', /permission denied to create role/],
      ];
      for (const [statement, message] of refused) await expect(writer.query(statement), statement).rejects.toThrow(message);
    });
    expect((await admin.query(`select count(*)::int as n from event_store.events where merchant_id = 'm-writer-login'`)).rows).toEqual([{ n: 1 }]);
  });

  it('sets a new password on an existing login, so the old one stops working', async () => {
    const first = await ensureMemberLogin(database.url, { role, password: randomBytes(12).toString('hex'), memberOf: 'payments_writer' });
    const second = await ensureMemberLogin(database.url, { role, password: randomBytes(12).toString('hex'), memberOf: 'payments_writer' });
    await expect(withClient(first, (c) => c.query('select 1'))).rejects.toThrow(/password authentication failed/);
    expect((await withClient(second, (c) => c.query('select current_user as name'))).rows).toEqual([{ name: role }]);
  });

  it('refuses role names it would have to quote', async () => {
    await expect(ensureMemberLogin(database.url, { role: 'Robert"; drop', password: 'x', memberOf: 'payments_writer' }))
      .rejects.toThrow('invalid role name "Robert"; drop"');
  });
});
