import { Kysely, sql } from 'kysely';

/**
 * An append in two server-side steps around a COPY, all in one transaction:
 *
 * 1. event_store.claim_events(ids, hashes) claims the event ids, sorting out
 *    duplicates and conflicts (SQLSTATE PA409, conflicting ids in DETAIL).
 * 2. The caller COPYs the new events, unnumbered, into its session's
 *    temporary table pg_temp.event_store_staging (no locks held yet).
 * 3. event_store.finish_append() locks the partition heads in partition order,
 *    advances them, inserts the staged events with their positions, and the
 *    caller's COMMIT follows in the same simple query: the head locks are held
 *    only for server-side work, never across a client round trip.
 *
 * Frozen: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function event_store.claim_events(ids uuid[], hashes bytea[])
    returns json
    language plpgsql
    as $fn$
    declare
      claimed uuid[];
      conflicts text;
      duplicates json := '[]';
    begin
      -- Claim ids in sorted order, so overlapping appends cannot deadlock on them.
      with c as (
        insert into event_store.event_ids (event_id, body_hash)
        select u.i, u.h from unnest(ids, hashes) as u(i, h) order by u.i
        on conflict (event_id) do nothing
        returning event_id
      )
      select coalesce(array_agg(c.event_id), '{}') into claimed from c;

      if cardinality(claimed) < cardinality(ids) then
        select string_agg(u.i::text, ',') filter (where s.body_hash <> u.h),
               coalesce(json_agg(u.i) filter (where s.body_hash = u.h), '[]')
          into conflicts, duplicates
        from unnest(ids, hashes) as u(i, h)
        join event_store.event_ids s on s.event_id = u.i
        where not (u.i = any(claimed));
        if conflicts is not null then
          raise exception 'event ids already stored with a different body'
            using errcode = 'PA409', detail = conflicts;
        end if;
      end if;
      return json_build_object('duplicates', duplicates);
    end
    $fn$`.execute(db);

  await sql`
    create function event_store.finish_append()
    returns json
    language plpgsql
    as $fn$
    declare
      result json;
    begin
      -- Head rows are locked in partition order before any is advanced.
      perform 1 from event_store.partition_heads
        where partition in (select distinct s.partition from pg_temp.event_store_staging s)
        order by partition for update;

      with counts as (
        select s.partition as p, count(*) as n from pg_temp.event_store_staging s group by s.partition
      ),
      heads as (
        update event_store.partition_heads h set head = h.head + c.n
        from counts c where h.partition = c.p
        returning h.partition, h.head, c.n
      ),
      inserted as (
        insert into event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload)
        select s.partition, hd.head - hd.n + row_number() over (partition by s.partition order by s.k),
               s.event_id, s.merchant_id, s.event_type, s.occurred_at, s.payload
        from pg_temp.event_store_staging s join heads hd on hd.partition = s.partition
        returning 1
      )
      select json_build_object(
        'runs', coalesce((select json_agg(json_build_object('p', partition, 'from', head - n + 1, 'n', n)) from heads), '[]'),
        'inserted', (select count(*) from inserted),
        'recordedAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
      ) into result;
      return result;
    end
    $fn$`.execute(db);
  await sql`grant execute on function event_store.claim_events(uuid[], bytea[]), event_store.finish_append() to payments_writer`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function event_store.finish_append()`.execute(db);
  await sql`drop function event_store.claim_events(uuid[], bytea[])`.execute(db);
}
