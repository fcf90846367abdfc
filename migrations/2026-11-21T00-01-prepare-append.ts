import { Kysely, sql } from 'kysely';

/**
 * The first half of an append, in one round trip: claim the event ids, sort
 * out duplicates and conflicts, then lock the partition heads in partition
 * order and advance them by the number of new events. The caller then COPYs
 * the numbered events into event_store.events and commits, in the same
 * transaction, so the head locks are held only for the COPY and the commit.
 * A conflict raises SQLSTATE PA409 with the conflicting ids in DETAIL.
 *
 * Frozen: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function event_store.prepare_append(ids uuid[], hashes bytea[], parts int2[])
    returns json
    language plpgsql
    as $fn$
    declare
      claimed uuid[];
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

      -- Head rows are locked in partition order before any is advanced.
      perform 1 from event_store.partition_heads
        where partition in (select unnest(parts)) order by partition for update;

      with counts as (
        select u.p, count(*) as n
        from unnest(ids, parts) as u(i, p)
        where cardinality(claimed) = cardinality(ids) or u.i in (select unnest(claimed))
        group by u.p
      ),
      heads as (
        update event_store.partition_heads h set head = h.head + c.n
        from counts c where h.partition = c.p
        returning h.partition, h.head, c.n
      )
      select json_build_object(
        'runs', coalesce((select json_agg(json_build_object('p', partition, 'from', head - n + 1, 'n', n)) from heads), '[]'),
        'duplicates', duplicates,
        'recordedAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
      ) into result;
      return result;
    end
    $fn$`.execute(db);
  await sql`grant execute on function event_store.prepare_append(uuid[], bytea[], int2[]) to payments_writer`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function event_store.prepare_append(uuid[], bytea[], int2[])`.execute(db);
}
