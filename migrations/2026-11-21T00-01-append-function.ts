import { Kysely, sql } from 'kysely';

/**
 * One round trip per append: the function claims the event ids, sorts out
 * duplicates and conflicts, locks the partition heads in partition order,
 * numbers the new events and inserts them. Called as a single autocommit
 * statement, it is its own transaction; a conflict raises SQLSTATE PA409 with
 * the conflicting ids in DETAIL, and nothing is stored.
 *
 * Frozen: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create type event_store.append_row as (k int, i uuid, p int2, m text, t text, o timestamptz, d jsonb)`.execute(db);
  await sql`
    create function event_store.append_events(ids uuid[], hashes bytea[], parts int2[], events json)
    returns json
    language plpgsql
    as $fn$
    declare
      claimed uuid[];
      fresh event_store.append_row[];
      conflicts text;
      duplicates json := '[]';
      result json;
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

      -- Parse the batch before taking the head locks: concurrent appends
      -- overlap their parsing and claiming, and serialize only to number and insert.
      select array_agg(r) into fresh
      from json_populate_recordset(null::event_store.append_row, events) r
      where cardinality(claimed) = cardinality(ids)
         or r.i in (select unnest(claimed));

      -- Head rows are locked in partition order before any is advanced.
      perform 1 from event_store.partition_heads where partition = any(parts) order by partition for update;

      with input as (
        select * from unnest(fresh)
      ),
      counts as (
        select p, count(*) as n from input group by p
      ),
      heads as (
        update event_store.partition_heads h set head = h.head + c.n
        from counts c where h.partition = c.p
        returning h.partition, h.head, c.n
      ),
      inserted as (
        insert into event_store.events (partition, position, event_id, merchant_id, event_type, occurred_at, payload)
        select x.p, hd.head - hd.n + row_number() over (partition by x.p order by x.k), x.i, x.m, x.t, x.o, x.d
        from input x join heads hd on hd.partition = x.p
        returning 1
      )
      select json_build_object(
        'runs', coalesce((select json_agg(json_build_object('p', partition, 'from', head - n + 1, 'n', n)) from heads), '[]'),
        'inserted', (select count(*) from inserted),
        'duplicates', duplicates,
        'recordedAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
      ) into result;
      return result;
    end
    $fn$`.execute(db);
  await sql`grant execute on function event_store.append_events(uuid[], bytea[], int2[], json) to payments_writer`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function event_store.append_events(uuid[], bytea[], int2[], json)`.execute(db);
  await sql`drop type event_store.append_row`.execute(db);
}
