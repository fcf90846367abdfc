import { sql, type Kysely } from 'kysely';

/**
 * Revoked query API tokens, by `jti`, until they would have expired anyway.
 * The ops CLI inserts them (`ops tokens revoke`); a trigger announces each on
 * channel `token_revoked` with its jti, so every query API process refuses
 * the token at once; each also reads the unexpired rows again every few
 * seconds, in case it missed an announcement. Rows long expired are useless
 * and may be deleted (the ops CLI does so when it revokes).
 *
 * The query API reads the table: if its group role (read_model_reader)
 * exists, it gets USAGE on the schema and SELECT on the table.
 *
 * Frozen: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table access.revoked_tokens (
      jti text primary key check (char_length(jti) between 1 and 128),
      expires_at timestamptz not null,
      revoked_at timestamptz not null default now(),
      reason text check (char_length(reason) <= 500)
    )`.execute(db);
  await sql`create index revoked_tokens_expires_at on access.revoked_tokens (expires_at)`.execute(db);
  await sql`
    create function access.notify_token_revoked() returns trigger language plpgsql as $$
    begin
      perform pg_notify('token_revoked', new.jti);
      return new;
    end $$`.execute(db);
  await sql`
    create trigger token_revoked
    after insert or update of expires_at on access.revoked_tokens
    for each row execute function access.notify_token_revoked()`.execute(db);
  await sql`
    do $$
    begin
      if exists (select from pg_roles where rolname = 'read_model_reader') then
        grant usage on schema access to read_model_reader;
        grant select on access.revoked_tokens to read_model_reader;
      end if;
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table access.revoked_tokens`.execute(db);
  await sql`drop function access.notify_token_revoked()`.execute(db);
}
