import { sql, type Kysely } from 'kysely';

/**
 * The analysts' schema: `analytics` holds views with fixed names over the live
 * version of merchant-metrics, and the role `analyst` may read those views and
 * the event store, and change nothing.
 *
 * The views are rebuilt by a trigger on projections.live, so they switch in the
 * very transaction that moves the live pointer (promote, rollback, and the
 * projector's first go-live alike): no reader ever sees a missing view or a
 * mix of two versions. A reader that asks during the switch waits for it (the
 * switch holds the views' locks until commit), then reads the new version.
 *
 * Frozen: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create schema analytics`.execute(db);

  // Roles are cluster-wide; create it only where missing. A group role: analysts
  // log in as their own roles that are members of it (docs/analysts.md).
  await sql`
    do $$
    begin
      if not exists (select from pg_roles where rolname = 'analyst') then
        create role analyst nologin;
      end if;
    end $$`.execute(db);
  await sql`grant usage on schema analytics, event_store to analyst`.execute(db);
  await sql`grant select on all tables in schema event_store to analyst`.execute(db);

  // One view. `create or replace` keeps the view (its grants, and readers
  // queued on its lock) but can only append columns; a version whose relation
  // has other columns or types (another engine: continuous aggregates sum to
  // numeric) needs drop and create. Without cascade: if anything were built on
  // the view, the switch fails loudly rather than destroying it.
  await sql`
    create function projections.replace_analytics_view(view_name text, definition text) returns void
    language plpgsql as $fn$
    begin
      begin
        execute format('create or replace view analytics.%I as %s', view_name, definition);
      exception when invalid_table_definition or datatype_mismatch then
        execute format('drop view analytics.%I', view_name);
        execute format('create view analytics.%I as %s', view_name, definition);
      end;
      execute format('grant select on analytics.%I to analyst', view_name);
    end $fn$`.execute(db);

  // Points every analytics view at the live version's relations. Columns are
  // the relation's own (t.*), so a version that adds a column shows it, plus
  // net_amount and the version the row came from.
  await sql`
    create function projections.refresh_analytics_views(projection text) returns void
    language plpgsql as $fn$
    declare
      live_version int;
      live_schema  text;
      dimensions   text;
      select_list  text;
    begin
      -- Only merchant-metrics has analysts' views (their names are fixed, not derived).
      if refresh_analytics_views.projection <> 'merchant-metrics' then
        return;
      end if;
      select l.version, v.schema_name into live_version, live_schema
        from projections.live l
        join projections.versions v on v.projection = l.projection and v.version = l.version
       where l.projection = refresh_analytics_views.projection;
      if not found then
        return;
      end if;

      perform projections.replace_analytics_view('merchant_metrics_15m', format(
        'select t.*, t.gross_amount - t.refund_amount as net_amount, %s as read_model_version from %I.metrics_15m t',
        live_version, live_schema));
      perform projections.replace_analytics_view('merchant_metrics_hourly', format(
        'select t.*, t.gross_amount - t.refund_amount as net_amount, %s as read_model_version from %I.metrics_hourly t',
        live_version, live_schema));
      perform projections.replace_analytics_view('merchant_metrics_daily', format(
        'select t.*, t.gross_amount - t.refund_amount as net_amount, %s as read_model_version from %I.metrics_daily t',
        live_version, live_schema));

      -- Months are sums of UTC days. Integer columns are measures (summed), the
      -- others dimensions (grouped), in the relation's column order, so the view
      -- follows whatever columns the version has.
      select string_agg(case when a.attname = 'bucket' then 'date_trunc(''month'', t.bucket, ''UTC'') as bucket'
                             when a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype)
                               then format('sum(t.%I)::bigint as %I', a.attname, a.attname)
                             else format('t.%I', a.attname) end, ', ' order by a.attnum),
             string_agg(format('t.%I', a.attname), ', ' order by a.attnum)
               filter (where a.attname <> 'bucket'
                         and a.atttypid not in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype))
        into select_list, dimensions
        from pg_attribute a
       where a.attrelid = format('%I.metrics_daily', live_schema)::regclass and a.attnum > 0 and not a.attisdropped;
      perform projections.replace_analytics_view('merchant_metrics_monthly', format(
        'select %s, sum(t.gross_amount)::bigint - sum(t.refund_amount)::bigint as net_amount, %s as read_model_version'
        ' from %I.metrics_daily t group by %s, date_trunc(''month'', t.bucket, ''UTC'')',
        select_list, live_version, live_schema, dimensions));

      perform projections.replace_analytics_view('merchant_customers_15m', format(
        'select t.*, %s as read_model_version from %I.customers_15m t', live_version, live_schema));
    end $fn$`.execute(db);

  await sql`
    create function projections.analytics_follow_live() returns trigger
    language plpgsql as $fn$
    begin
      perform projections.refresh_analytics_views(new.projection);
      return null;
    end $fn$`.execute(db);
  // "of version": clearing previous_version (drop) must not take the views' locks.
  await sql`
    create trigger analytics_follow_live after insert or update of version on projections.live
    for each row execute function projections.analytics_follow_live()`.execute(db);

  // A database upgraded with a version already live gets its views now; a fresh one, nothing.
  await sql`select projections.refresh_analytics_views('merchant-metrics')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger analytics_follow_live on projections.live`.execute(db);
  await sql`drop function projections.analytics_follow_live()`.execute(db);
  await sql`drop function projections.refresh_analytics_views(text)`.execute(db);
  await sql`drop function projections.replace_analytics_view(text, text)`.execute(db);
  await sql`drop schema analytics cascade`.execute(db);
  await sql`revoke select on all tables in schema event_store from analyst`.execute(db);
  await sql`revoke usage on schema event_store from analyst`.execute(db);
  // The role stays: roles are cluster-wide and other databases may grant it.
}
