import { sql, type Kysely } from 'kysely';

/**
 * The cold archive's side of the event store: old events leave the hot store
 * only once they are verified in the archive's files, through one audited
 * function, and come back only as exactly the rows that left.
 *
 * - event_store.archived_ranges: per partition, the position ranges a verify
 *   found intact in the archive (`verified_at`) and whether they have left the
 *   hot store (`removed_at`, with `removed_digest`, a digest of the rows as
 *   they were removed). A partition's ranges tile [1, N]: the removed ones
 *   form a prefix, and the others lie above it.
 * - event_store.archive_audit: one row per removal or restore, naming the
 *   login that asked (session_user, not the functions' owner); immutable.
 * - event_store.archive_restore_staging: a restore's rows wait here until
 *   finish_restore has proved them identical to those removed, so a restore
 *   left half done never shows in the store.
 * - event_archivist (NOLOGIN): the group role of whoever runs the archive. It
 *   reads the store and calls the functions below; it writes no table itself,
 *   so a range is marked verified, removed or restored only by them.
 * - The functions run as this migration's role, the store's owner (security
 *   definer, fixed search_path), executable by event_archivist and the owner
 *   only: record_verified_range and withdraw_verified_range (a verify's
 *   outcome), remove_archived_range, restore_archived_rows and finish_restore.
 *
 * The immutability trigger function event_store.refuse_change() is replaced
 * by one that lets exactly one change through: a DELETE of a row of an events
 * partition while current_user is remove_archived_range's owner and the
 * transaction-local setting event_store.archive_removal names that partition
 * and a position range holding the row. current_user is the owner only inside
 * a security definer function of the owner's, and of those only
 * remove_archived_range deletes events: it sets the variable to the range it
 * has just checked, and its SET clause restores the variable when it returns.
 * Every other DELETE, by any role and the owner's own statements included, is
 * refused as before; UPDATE and TRUNCATE always are. Its search_path is fixed,
 * so a caller cannot put functions or operators of its own in the place of
 * those the checks use. (The owner could set the variable by hand and delete,
 * as it could switch the triggers off: against the owner the triggers guard
 * from mistakes, not malice, as they always did.) event_ids rows are never
 * deleted, so an archived event's id stays claimed and a resubmission of it is
 * still a duplicate; partition_heads are not touched, so positions go on.
 *
 * Frozen: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    do $$
    begin
      if not exists (select from pg_roles where rolname = 'event_archivist') then
        create role event_archivist nologin;
      end if;
    end $$`.execute(db);

  await sql`
    create table event_store.archived_ranges (
      partition       smallint    not null,
      first_position  bigint      not null,
      last_position   bigint      not null,
      events          bigint      not null,
      manifest_sha256 text        not null,
      verified_at     timestamptz not null,
      removed_at      timestamptz,
      removed_digest  bytea,
      primary key (partition, first_position),
      check (first_position >= 1 and last_position >= first_position),
      check (events = last_position - first_position + 1),
      check ((removed_at is null) = (removed_digest is null))
    )`.execute(db);

  await sql`
    create table event_store.archive_audit (
      at             timestamptz not null default now(),
      db_user        text        not null default session_user,
      operation      text        not null check (operation in ('remove', 'restore')),
      partition      smallint    not null,
      first_position bigint      not null,
      last_position  bigint      not null,
      events         bigint      not null
    )`.execute(db);
  await sql`create trigger refuse_update_delete before update or delete on event_store.archive_audit
            for each row execute function event_store.refuse_change()`.execute(db);
  await sql`create trigger refuse_truncate before truncate on event_store.archive_audit
            for each statement execute function event_store.refuse_change()`.execute(db);

  // Unlogged: nothing here outlives the restore that wrote it.
  await sql`
    create unlogged table event_store.archive_restore_staging (
      partition       smallint    not null,
      position        bigint      not null,
      event_id        uuid        not null,
      merchant_id     text        not null,
      event_type      text        not null,
      occurred_at     timestamptz not null,
      recorded_at     timestamptz not null,
      payload         jsonb       not null,
      producer_app_id uuid,
      request_id      text,
      primary key (partition, position)
    )`.execute(db);

  await sql`
    create or replace function event_store.refuse_change() returns trigger
    language plpgsql set search_path = pg_catalog, pg_temp as $$
    declare
      removal text[];
    begin
      if tg_op = 'DELETE' and tg_level = 'ROW' and tg_table_schema = 'event_store' and tg_table_name ~ '^events_p[0-9]+$' then
        removal := string_to_array(nullif(current_setting('event_store.archive_removal', true), ''), ':');
        -- Nested rather than one AND, which SQL may evaluate in any order: the owner's lookup runs last.
        if removal is not null and old.partition = removal[1]::int and old.position between removal[2]::bigint and removal[3]::bigint then
          if current_user = (select pg_get_userbyid(proowner) from pg_proc
                              where oid = to_regprocedure('event_store.remove_archived_range(integer)')) then
            return old;
          end if;
        end if;
      end if;
      raise exception 'event store is immutable: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name
        using errcode = 'insufficient_privilege';
    end $$`.execute(db);

  await sql`
    create function event_store.archive_partition_table(p int) returns regclass
    language plpgsql stable set search_path = pg_catalog, pg_temp as $fn$
    declare
      t regclass;
    begin
      -- Named as the event store's migration names them: events_p00, events_p01, … events_p100, …
      t := to_regclass(format('event_store.%I', 'events_p' || case when p between 0 and 9 then '0' else '' end || p));
      if p < 0 or t is null then
        raise exception 'the event store has no partition %', p using errcode = 'invalid_parameter_value';
      end if;
      return t;
    end $fn$`.execute(db);

  // A digest of every column of a partition's rows in a position range, in position order: the
  // same rows give the same digest in any session (the SET clauses fix how values print).
  // Chained over chunks of 10,000 rows, so no value grows with the range.
  await sql`
    create function event_store.archive_digest(source regclass, p int, first_position bigint, last_position bigint) returns bytea
    language plpgsql stable
    set search_path = pg_catalog, pg_temp set timezone = 'UTC' set datestyle = 'ISO, YMD'
    as $fn$
    declare
      digest bytea := sha256(''::bytea);
      chunk bytea;
      lo bigint := first_position;
      hi bigint;
    begin
      while lo <= last_position loop
        hi := least(lo + 9999, last_position);
        execute format($q$
          select sha256(convert_to(coalesce(string_agg(
                   row(s.position, s.event_id, s.merchant_id, s.event_type, s.occurred_at, s.recorded_at,
                       s.payload, s.producer_app_id, s.request_id)::text, E'\n' order by s.position), ''), 'UTF8'))
          from %s s where s.partition = $1 and s.position between $2 and $3$q$, source)
          into chunk using p, lo, hi;
        digest := sha256(digest || chunk);
        lo := hi + 1;
      end loop;
      return digest;
    end $fn$`.execute(db);

  await sql`
    create function event_store.record_verified_range(p int, through bigint, manifest_sha256 text) returns json
    language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
    declare
      t regclass := event_store.archive_partition_table(p);
      removed_through bigint;
      held bigint;
    begin
      perform pg_advisory_xact_lock(hashtext('event_store.archived_ranges'), p);
      select coalesce(max(r.last_position), 0) into removed_through
        from event_store.archived_ranges r where r.partition = p and r.removed_at is not null;
      if through < removed_through then
        raise exception 'partition %: the archive ends at position %, but positions 1 to % are removed from the hot store', p, through, removed_through
          using errcode = 'invalid_parameter_value';
      end if;
      delete from event_store.archived_ranges r where r.partition = p and r.removed_at is null;
      if through = removed_through then
        return json_build_object('partition', p, 'firstPosition', null, 'lastPosition', null, 'events', 0);
      end if;
      execute format('select count(*) from %s where position between $1 and $2', t) into held using removed_through + 1, through;
      if held <> through - removed_through then
        raise exception 'partition %: the store holds % of the events at positions % to %, not all of them', p, held, removed_through + 1, through
          using errcode = 'invalid_parameter_value';
      end if;
      insert into event_store.archived_ranges (partition, first_position, last_position, events, manifest_sha256, verified_at)
        values (p, removed_through + 1, through, through - removed_through, record_verified_range.manifest_sha256, now());
      return json_build_object('partition', p, 'firstPosition', removed_through + 1, 'lastPosition', through, 'events', through - removed_through);
    end $fn$`.execute(db);

  await sql`
    create function event_store.withdraw_verified_range(p int) returns bigint
    language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
    declare
      withdrawn bigint;
    begin
      perform event_store.archive_partition_table(p);
      perform pg_advisory_xact_lock(hashtext('event_store.archived_ranges'), p);
      delete from event_store.archived_ranges r where r.partition = p and r.removed_at is null;
      get diagnostics withdrawn = row_count;
      return withdrawn;
    end $fn$`.execute(db);

  await sql`
    create function event_store.remove_archived_range(p int) returns json
    language plpgsql security definer
    set search_path = pg_catalog, pg_temp set event_store.archive_removal = ''
    as $fn$
    declare
      t regclass := event_store.archive_partition_table(p);
      lo bigint;
      hi bigint;
      expected bigint;
      deleted bigint;
      r record;
    begin
      perform pg_advisory_xact_lock(hashtext('event_store.archived_ranges'), p);
      select min(a.first_position), max(a.last_position), sum(a.events) into lo, hi, expected
        from event_store.archived_ranges a where a.partition = p and a.removed_at is null;
      if lo is null then
        raise exception 'partition % has no verified archived range to remove: export and verify the archive first', p
          using errcode = 'object_not_in_prerequisite_state';
      end if;
      if expected <> hi - lo + 1 then
        raise exception 'partition %: the verified ranges between positions % and % leave a gap; verify the archive again', p, lo, hi
          using errcode = 'object_not_in_prerequisite_state';
      end if;
      for r in select a.first_position, a.last_position from event_store.archived_ranges a
                where a.partition = p and a.removed_at is null loop
        update event_store.archived_ranges a
           set removed_at = now(), removed_digest = event_store.archive_digest(t, p, r.first_position, r.last_position)
         where a.partition = p and a.first_position = r.first_position;
      end loop;
      perform set_config('event_store.archive_removal', format('%s:%s:%s', p, lo, hi), true);
      execute format('delete from %s where position between $1 and $2', t) using lo, hi;
      get diagnostics deleted = row_count;
      perform set_config('event_store.archive_removal', '', true);
      if deleted <> expected then
        raise exception 'partition %: % events expected at positions % to %, % found; nothing removed', p, expected, lo, hi, deleted
          using errcode = 'object_not_in_prerequisite_state';
      end if;
      insert into event_store.archive_audit (operation, partition, first_position, last_position, events)
        values ('remove', p, lo, hi, deleted);
      return json_build_object('partition', p, 'firstPosition', lo, 'lastPosition', hi, 'events', deleted);
    end $fn$`.execute(db);

  await sql`
    create function event_store.restore_archived_rows(
      p int, positions bigint[], event_ids uuid[], merchant_ids text[], event_types text[],
      occurred_ats timestamptz[], recorded_ats timestamptz[], payloads jsonb[], producer_app_ids uuid[], request_ids text[]
    ) returns bigint
    language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
    declare
      n int := cardinality(positions);
      stray bigint;
      staged bigint;
    begin
      perform event_store.archive_partition_table(p);
      if n <> cardinality(event_ids) or n <> cardinality(merchant_ids) or n <> cardinality(event_types)
         or n <> cardinality(occurred_ats) or n <> cardinality(recorded_ats) or n <> cardinality(payloads)
         or n <> cardinality(producer_app_ids) or n <> cardinality(request_ids) then
        raise exception 'restore_archived_rows: the arrays differ in length' using errcode = 'invalid_parameter_value';
      end if;
      select min(u.pos) into stray from unnest(positions) as u(pos)
       where not exists (select from event_store.archived_ranges a
                          where a.partition = p and a.removed_at is not null and u.pos between a.first_position and a.last_position);
      if stray is not null then
        raise exception 'partition %: position % is in no range removed from the hot store', p, stray using errcode = 'invalid_parameter_value';
      end if;
      insert into event_store.archive_restore_staging
        (partition, position, event_id, merchant_id, event_type, occurred_at, recorded_at, payload, producer_app_id, request_id)
      select p, u.* from unnest(positions, event_ids, merchant_ids, event_types, occurred_ats, recorded_ats, payloads, producer_app_ids, request_ids)
        as u(position, event_id, merchant_id, event_type, occurred_at, recorded_at, payload, producer_app_id, request_id)
      on conflict (partition, position) do update set
        event_id = excluded.event_id, merchant_id = excluded.merchant_id, event_type = excluded.event_type,
        occurred_at = excluded.occurred_at, recorded_at = excluded.recorded_at, payload = excluded.payload,
        producer_app_id = excluded.producer_app_id, request_id = excluded.request_id;
      get diagnostics staged = row_count;
      return staged;
    end $fn$`.execute(db);

  await sql`
    create function event_store.finish_restore(p int) returns json
    language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
    declare
      t regclass := event_store.archive_partition_table(p);
      lo bigint;
      hi bigint;
      staged bigint;
      restored bigint;
      r record;
    begin
      perform pg_advisory_xact_lock(hashtext('event_store.archived_ranges'), p);
      select min(a.first_position), max(a.last_position) into lo, hi
        from event_store.archived_ranges a where a.partition = p and a.removed_at is not null;
      if lo is null then
        raise exception 'partition % has no range removed from the hot store', p using errcode = 'object_not_in_prerequisite_state';
      end if;
      for r in select a.first_position, a.last_position, a.events, a.removed_digest from event_store.archived_ranges a
                where a.partition = p and a.removed_at is not null order by a.first_position loop
        select count(*) into staged from event_store.archive_restore_staging s
         where s.partition = p and s.position between r.first_position and r.last_position;
        if staged <> r.events then
          raise exception 'partition %: % of the % events removed at positions % to % were given; nothing restored', p, staged, r.events, r.first_position, r.last_position
            using errcode = 'object_not_in_prerequisite_state';
        end if;
        if event_store.archive_digest('event_store.archive_restore_staging', p, r.first_position, r.last_position) <> r.removed_digest then
          raise exception 'partition %: the events given for positions % to % differ from those removed; nothing restored', p, r.first_position, r.last_position
            using errcode = 'data_corrupted';
        end if;
      end loop;
      execute format($q$
        insert into %s (partition, position, event_id, merchant_id, event_type, occurred_at, recorded_at, payload, producer_app_id, request_id)
        select s.partition, s.position, s.event_id, s.merchant_id, s.event_type, s.occurred_at, s.recorded_at, s.payload, s.producer_app_id, s.request_id
        from event_store.archive_restore_staging s where s.partition = $1 and s.position between $2 and $3 order by s.position$q$, t)
        using p, lo, hi;
      get diagnostics restored = row_count;
      delete from event_store.archive_restore_staging s where s.partition = p;
      update event_store.archived_ranges a set removed_at = null, removed_digest = null where a.partition = p and a.removed_at is not null;
      insert into event_store.archive_audit (operation, partition, first_position, last_position, events)
        values ('restore', p, lo, hi, restored);
      return json_build_object('partition', p, 'firstPosition', lo, 'lastPosition', hi, 'events', restored);
    end $fn$`.execute(db);

  for (const fn of INTERNAL_FUNCTIONS) await sql`revoke execute on function ${sql.raw(fn)} from public`.execute(db);
  for (const fn of ARCHIVIST_FUNCTIONS) {
    await sql`revoke execute on function ${sql.raw(fn)} from public`.execute(db);
    await sql`grant execute on function ${sql.raw(fn)} to event_archivist`.execute(db);
  }

  await sql`grant usage on schema event_store to event_archivist`.execute(db);
  await sql`grant select on event_store.event_ids, event_store.partition_heads, event_store.settings,
                            event_store.archived_ranges, event_store.archive_audit to event_archivist`.execute(db);
  // The parent and every partition: the archive reads a partition's table by name.
  await sql`
    do $$
    declare
      t regclass;
    begin
      for t in select 'event_store.events'::regclass
               union all
               select inhrelid::regclass from pg_inherits where inhparent = 'event_store.events'::regclass
      loop
        execute format('grant select on %s to event_archivist', t);
      end loop;
    end $$`.execute(db);
  // The projector learns from it where a partition's hot positions start.
  await sql`grant select on event_store.archived_ranges to projection_writer`.execute(db);
}

const INTERNAL_FUNCTIONS = [
  'event_store.archive_partition_table(int)',
  'event_store.archive_digest(regclass, int, bigint, bigint)',
];
const ARCHIVIST_FUNCTIONS = [
  'event_store.record_verified_range(int, bigint, text)',
  'event_store.withdraw_verified_range(int)',
  'event_store.remove_archived_range(int)',
  'event_store.restore_archived_rows(int, bigint[], uuid[], text[], text[], timestamptz[], timestamptz[], jsonb[], uuid[], text[])',
  'event_store.finish_restore(int)',
];

/**
 * Refused while any range is out of the hot store: the tables dropped here
 * are the only record of which events the archive holds instead.
 */
export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    do $$
    begin
      if exists (select from event_store.archived_ranges where removed_at is not null) then
        raise exception 'events are removed from the hot store (event_store.archived_ranges): restore them before undoing this migration';
      end if;
    end $$`.execute(db);
  for (const fn of [...ARCHIVIST_FUNCTIONS, ...INTERNAL_FUNCTIONS]) await sql`drop function ${sql.raw(fn)}`.execute(db);
  await sql`drop table event_store.archive_restore_staging, event_store.archive_audit, event_store.archived_ranges`.execute(db);
  // As the event store's migration made it.
  await sql`
    create or replace function event_store.refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'event store is immutable: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name
        using errcode = 'insufficient_privilege';
    end $$`.execute(db);
  await sql`
    do $$
    declare
      t regclass;
    begin
      for t in select 'event_store.events'::regclass
               union all
               select inhrelid::regclass from pg_inherits where inhparent = 'event_store.events'::regclass
      loop
        execute format('revoke select on %s from event_archivist', t);
      end loop;
    end $$`.execute(db);
  await sql`revoke select on event_store.event_ids, event_store.partition_heads, event_store.settings from event_archivist`.execute(db);
  await sql`revoke usage on schema event_store from event_archivist`.execute(db);
  // The role stays: roles are cluster-wide and other databases may grant it.
}
