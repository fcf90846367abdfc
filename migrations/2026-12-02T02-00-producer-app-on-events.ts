import { sql, type Kysely } from 'kysely';

/**
 * Producers bound to merchants, and every event tied to who sent it.
 *
 * - event_store.events gets `producer_app_id` (the app whose key sent the
 *   event) and `request_id` (the command API's id of the request that stored
 *   it, as logged and returned in X-Request-Id: a NATS message batches events
 *   of many requests, so only the event itself can say which request stored
 *   it). Both are null for events stored before this migration. Adding
 *   nullable columns without a default rewrites nothing, and the immutability
 *   triggers (row-level, UPDATE and DELETE) are not involved. No foreign key
 *   to access.producer_apps: apps are revoked, never deleted, and a key check
 *   on every appended row would cost the hot path.
 * - event_store.finish_append_v2() is finish_append() writing the two columns
 *   from the session's staging table, which gains them. The old function
 *   stays, so a process of the previous release keeps appending (with nulls)
 *   during a rolling deploy.
 * - access.producer_apps gets `merchant_ids`: null lets the app submit for any
 *   merchant, a list restricts it to those (1 to 1,000 ids, no nulls; the
 *   command API refuses a request with an event for any other). A change of
 *   the list is announced on `producer_apps_revoked` with the app id, like a
 *   revocation, so every command API process drops the app's cached keys and
 *   reads the new list on its next request.
 *
 * payments_writer's grants cover the new columns: it has INSERT and SELECT on
 * the event store's tables and SELECT on access.producer_apps, all table-wide.
 *
 * Frozen: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table event_store.events add column if not exists producer_app_id uuid, add column if not exists request_id text`.execute(db);

  await sql`
    alter table access.producer_apps add column merchant_ids text[]
      constraint producer_apps_merchant_ids_bounded
      check (merchant_ids is null or (cardinality(merchant_ids) between 1 and 1000 and array_position(merchant_ids, null) is null))`.execute(db);
  await sql`
    create trigger producer_apps_merchants_changed
    after update of merchant_ids on access.producer_apps
    for each row when (old.merchant_ids is distinct from new.merchant_ids)
    execute function access.notify_producer_revoked()`.execute(db);

  // As finish_append (migration 2026-11-21T00-01), plus the two columns.
  await sql`
    create function event_store.finish_append_v2()
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
        insert into event_store.events
          (partition, position, event_id, merchant_id, event_type, occurred_at, payload, producer_app_id, request_id)
        select s.partition, hd.head - hd.n + row_number() over (partition by s.partition order by s.k),
               s.event_id, s.merchant_id, s.event_type, s.occurred_at, s.payload, s.producer_app_id, s.request_id
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
  await sql`grant execute on function event_store.finish_append_v2() to payments_writer`.execute(db);
}

/**
 * Back to the previous append path and unrestricted apps. The events'
 * producer and request columns stay: dropping them would rewrite what the
 * store recorded, which it never does; the old append leaves them null.
 */
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function event_store.finish_append_v2()`.execute(db);
  await sql`drop trigger producer_apps_merchants_changed on access.producer_apps`.execute(db);
  await sql`alter table access.producer_apps drop column merchant_ids`.execute(db);
}
