import { sql, type Kysely } from 'kysely';

/**
 * Least privilege for the apps that read and write the read models: two group
 * roles that an app's login joins (`ops db login NAME --member-of GROUP`, and
 * `npm start` for its own PostgreSQL), as the command API's joins
 * payments_writer.
 *
 * - projection_writer (the projector): reads the event store, never writes it;
 *   reads and writes the registry (versions, checkpoints, leases, the live
 *   pointer); owns the schemas of the versions it installs, which
 *   projections.create_version_schema creates for it (it has no CREATE on the
 *   database, and only a schema of a version registered as building can be
 *   made that way).
 * - read_model_reader (the query API): reads the registry and the read models;
 *   of the event store only the partition heads, the settings and the position
 *   and record time of events (its freshness), never an event's payload.
 *
 * The analysts' views are owned by the migrating role and replaced when a
 * version goes live, which the projector does: the functions that replace them
 * now run with their owner's rights (security definer), so whoever moves the
 * live pointer, the views keep one owner. A later migration that replaces
 * refresh_analytics_views must say `security definer` again.
 *
 * payments_writer keeps only SELECT on access.producer_apps: the command API
 * looks keys up, and only the ops CLI (as the database owner) creates and
 * revokes apps.
 *
 * Frozen: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Roles are cluster-wide; create them only where missing.
  await sql`
    do $$
    begin
      if not exists (select from pg_roles where rolname = 'projection_writer') then
        create role projection_writer nologin;
      end if;
      if not exists (select from pg_roles where rolname = 'read_model_reader') then
        create role read_model_reader nologin;
      end if;
    end $$`.execute(db);

  await sql`grant usage on schema event_store, projections to projection_writer`.execute(db);
  await sql`grant select on all tables in schema event_store to projection_writer`.execute(db);
  await sql`grant select, insert, update, delete on all tables in schema projections to projection_writer`.execute(db);

  await sql`grant usage on schema event_store, projections to read_model_reader`.execute(db);
  await sql`grant select on all tables in schema projections to read_model_reader`.execute(db);
  await sql`grant select on event_store.partition_heads, event_store.settings to read_model_reader`.execute(db);
  // The parent and every partition: freshness reads a partition's table by name.
  await sql`
    do $$
    declare
      t regclass;
    begin
      for t in select 'event_store.events'::regclass
               union all
               select inhrelid::regclass from pg_inherits where inhparent = 'event_store.events'::regclass
      loop
        execute format('grant select (partition, position, recorded_at) on %s to read_model_reader', t);
      end loop;
    end $$`.execute(db);

  // Versions installed before this migration: their tables, for both groups.
  await sql`
    do $$
    declare
      s text;
    begin
      for s in select v.schema_name from projections.versions v
                where exists (select from pg_namespace n where n.nspname = v.schema_name)
      loop
        execute format('grant usage on schema %I to projection_writer, read_model_reader', s);
        execute format('grant select, insert, update, delete on all tables in schema %I to projection_writer', s);
        execute format('grant select on all tables in schema %I to read_model_reader', s);
      end loop;
    end $$`.execute(db);

  await sql`
    create function projections.create_version_schema(schema_name text) returns void
    language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
    begin
      if schema_name !~ '^[a-z_][a-z0-9_]{0,62}$' then
        raise exception 'invalid schema name "%"', schema_name using errcode = 'invalid_schema_name';
      end if;
      if not exists (select from projections.versions v
                      where v.schema_name = create_version_schema.schema_name and v.status = 'building') then
        raise exception 'schema "%" belongs to no version being installed', schema_name using errcode = 'insufficient_privilege';
      end if;
      execute format('create schema %I authorization projection_writer', schema_name);
    end $fn$`.execute(db);
  await sql`revoke execute on function projections.create_version_schema(text) from public`.execute(db);
  await sql`grant execute on function projections.create_version_schema(text) to projection_writer`.execute(db);

  await sql`alter function projections.refresh_analytics_views(text) security definer set search_path = pg_catalog, pg_temp`.execute(db);
  await sql`alter function projections.analytics_follow_live() security definer set search_path = pg_catalog, pg_temp`.execute(db);

  await sql`revoke insert, update on access.producer_apps from payments_writer`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`grant insert, update on access.producer_apps to payments_writer`.execute(db);
  await sql`alter function projections.analytics_follow_live() security invoker reset search_path`.execute(db);
  await sql`alter function projections.refresh_analytics_views(text) security invoker reset search_path`.execute(db);
  await sql`drop function projections.create_version_schema(text)`.execute(db);
  await sql`revoke all on all tables in schema projections from projection_writer, read_model_reader`.execute(db);
  await sql`revoke all on all tables in schema event_store from projection_writer, read_model_reader`.execute(db);
  await sql`revoke usage on schema event_store, projections from projection_writer, read_model_reader`.execute(db);
  // The roles stay: roles are cluster-wide and other databases may grant them.
}
