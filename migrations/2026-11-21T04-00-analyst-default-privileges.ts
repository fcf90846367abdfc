import { sql, type Kysely } from 'kysely';

/**
 * The analyst role could read the event store's tables that existed when the
 * analytics migration ran, and no table added to `event_store` after it. Tables
 * the migrating role creates there from now on are readable by `analyst` as
 * they appear; the grant is repeated for any table added in between.
 *
 * Frozen: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter default privileges in schema event_store grant select on tables to analyst`.execute(db);
  await sql`grant select on all tables in schema event_store to analyst`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter default privileges in schema event_store revoke select on tables from analyst`.execute(db);
}
