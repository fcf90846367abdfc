import { sql, type Kysely } from 'kysely';

/**
 * Payment search (projection merchant-payments):
 * - event_store.merchant_events_at(merchant, partition, positions): the
 *   events of one merchant at the given positions of its partition, for a
 *   payment's history. The query API's role (read_model_reader) reads only
 *   positions and times of the store; this function, run with its owner's
 *   rights, gives it the bodies of one merchant's events at a time, at most
 *   1,000, and of no other merchant however it is called.
 * - analytics.merchant_payments: the analysts' view of the live version's
 *   payments, kept on it by the refresher this migration registers.
 *
 * Frozen: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function event_store.merchant_events_at(merchant text, part smallint, positions bigint[])
      returns table ("position" bigint, event_id uuid, event_type text, occurred_at timestamptz, recorded_at timestamptz, payload text)
    language sql stable security definer set search_path = pg_catalog, pg_temp as $fn$
      select e.position, e.event_id, e.event_type, e.occurred_at, e.recorded_at, e.payload::text
        from event_store.events e
       where e.merchant_id = merchant and e.partition = part
         and e.position = any (positions[1:1000])
       order by e.position
    $fn$`.execute(db);
  await sql`revoke execute on function event_store.merchant_events_at(text, smallint, bigint[]) from public`.execute(db);
  await sql`
    do $$
    begin
      if exists (select from pg_roles where rolname = 'read_model_reader') then
        grant execute on function event_store.merchant_events_at(text, smallint, bigint[]) to read_model_reader;
      end if;
    end $$`.execute(db);

  await sql`
    create function projections.refresh_payment_views(projection text) returns void
    language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
    declare
      live_version int;
      live_schema  text;
    begin
      select l.version, v.schema_name into live_version, live_schema
        from projections.live l join projections.versions v on v.projection = l.projection and v.version = l.version
       where l.projection = refresh_payment_views.projection;
      if not found then
        return;
      end if;
      perform projections.replace_analytics_view('merchant_payments', format(
        'select t.*, %s as read_model_version from %I.payments t', live_version, live_schema));
    end $fn$`.execute(db);
  await sql`insert into projections.view_refreshers values ('merchant-payments', 'projections.refresh_payment_views')`.execute(db);
  await sql`select projections.refresh_payment_views('merchant-payments')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from projections.view_refreshers where projection = 'merchant-payments'`.execute(db);
  await sql`drop view if exists analytics.merchant_payments`.execute(db);
  await sql`drop function projections.refresh_payment_views(text)`.execute(db);
  await sql`drop function event_store.merchant_events_at(text, smallint, bigint[])`.execute(db);
}
