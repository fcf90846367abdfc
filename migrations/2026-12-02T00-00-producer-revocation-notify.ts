import { sql, type Kysely } from 'kysely';

/**
 * A producer app revoked (its `revoked_at` set, however: the ops CLI or SQL)
 * is announced on channel `producer_apps_revoked` with its app id, so every
 * command API process drops the key from its cache at once instead of
 * honouring it for up to its cache's lifetime.
 *
 * Frozen: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function access.notify_producer_revoked() returns trigger language plpgsql as $$
    begin
      perform pg_notify('producer_apps_revoked', new.app_id::text);
      return new;
    end $$`.execute(db);
  await sql`
    create trigger producer_apps_revoked
    after update of revoked_at on access.producer_apps
    for each row when (new.revoked_at is not null and old.revoked_at is distinct from new.revoked_at)
    execute function access.notify_producer_revoked()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger producer_apps_revoked on access.producer_apps`.execute(db);
  await sql`drop function access.notify_producer_revoked()`.execute(db);
}
