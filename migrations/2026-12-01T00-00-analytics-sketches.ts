import { sql, type Kysely } from 'kysely';

/**
 * The analysts' views over merchant-metrics v3, layout `sketches`
 * (docs/decisions/0008-customer-sketches.md): every metric row carries a
 * customer sketch (bytea), and there is no customers_15m. A version has that
 * layout when its schema has `totals_daily`.
 *
 * - Versions with customer sets (v1, v2) keep their five views exactly
 *   (CUSTOMER_SET_VIEWS is 2026-11-21T03-00-rollup-watermark's text) and gain
 *   merchant_totals_hourly and merchant_totals_daily (no method or store;
 *   unique customers counted exactly from customers_15m), so that both layouts
 *   have the same view names.
 * - Versions with sketches get views with unique_customers (the row's sketch
 *   estimate), unique_customers_exact, and the sketch itself (`customers`,
 *   last) to merge with analytics.sketch_union. merchant_customers_15m keeps its
 *   columns, but reading it fails with the reason instead of answering nothing.
 * - The sketch functions are plpgsql that look up `<schema>.sketch_check` as
 *   the caller at run time, so the views work for `analyst` only with USAGE on
 *   the live version's schema. It gets that (USAGE reads no table) while the
 *   live version has sketches, and loses it on every other version's schema.
 *
 * All of it runs in the transaction that moves projections.live (its trigger).
 *
 * Frozen: never import application code here.
 */

/** plpgsql over live_version and live_schema: the five views of a version with customer sets, as 2026-11-21T03-00 made them. */
const CUSTOMER_SET_VIEWS = `
      -- A rollup below the lowest watermark, the 15-minute table summed to its grid above it.
      watermark := format('coalesce((select min(w.materialized_until) from %I.rollup_watermark w), ''infinity''::timestamptz)', live_schema);
      hourly := projections.rollup_with_tail(live_schema, 'metrics_hourly', '1 hour', watermark);
      daily := projections.rollup_with_tail(live_schema, 'metrics_daily', '1 day', watermark);

      perform projections.replace_analytics_view('merchant_metrics_15m', format(
        'select t.*, t.gross_amount - t.refund_amount as net_amount, %s as read_model_version from %I.metrics_15m t',
        live_version, live_schema));
      perform projections.replace_analytics_view('merchant_metrics_hourly', format(
        'select t.*, t.gross_amount - t.refund_amount as net_amount, %s as read_model_version from %s t',
        live_version, hourly));
      perform projections.replace_analytics_view('merchant_metrics_daily', format(
        'select t.*, t.gross_amount - t.refund_amount as net_amount, %s as read_model_version from %s t',
        live_version, daily));

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
        ' from %s t group by %s, date_trunc(''month'', t.bucket, ''UTC'')',
        select_list, live_version, daily, dimensions));

      perform projections.replace_analytics_view('merchant_customers_15m', format(
        'select t.*, %s as read_model_version from %I.customers_15m t', live_version, live_schema));
`;

const DECLARE = `
      live_version int;
      live_schema  text;
      dimensions   text;
      select_list  text;
      watermark    text;
      hourly       text;
      daily        text;`;

const FIND_LIVE = `
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
      end if;`;

export async function up(db: Kysely<any>): Promise<void> {
  // merchant_customers_15m where the live version keeps no customer ids. Reading it
  // fails with the reason: a saved report that silently fell to zero customers
  // would be worse than one that stops and says why.
  await sql`
    create function projections.analytics_no_customer_ids(read_model_version int)
      returns table (merchant_id text, bucket timestamptz, currency text, payment_method text, store_id text, customer_id text)
    language plpgsql volatile as $fn$
    begin
      raise exception 'analytics.merchant_customers_15m has no rows: merchant-metrics v%, the live version, keeps no customer ids', read_model_version
        using errcode = 'feature_not_supported',
              hint = 'Use unique_customers of the other analytics views, or merge their customers sketches with '
                     'analytics.sketch_estimate(analytics.sketch_union(array_agg(customers))); see docs/analysts.md.';
    end $fn$`.execute(db);

  await sql`
    create or replace function projections.refresh_analytics_views(projection text) returns void
    language plpgsql as $fn$
    declare${sql.raw(DECLARE)}
      view_name    text;
      relation     text;
      source       text;
      span         text;
      columns      text;
      measures     text;
      stale        text;
    begin${sql.raw(FIND_LIVE)}

      if to_regclass(format('%I.totals_daily', live_schema)) is null then${sql.raw(CUSTOMER_SET_VIEWS)}
      comment on view analytics.merchant_customers_15m is null;

      -- Totals without method and store: the hourly and daily views' rows summed, and per row the
      -- customers of its hour or UTC day counted exactly ('24 hours': '1 day' would follow the
      -- session's time zone across a DST change).
      for view_name, relation, source, span in
        select * from (values ('merchant_totals_hourly', 'metrics_hourly', hourly, '1 hour'),
                              ('merchant_totals_daily', 'metrics_daily', daily, '24 hours')) as t
      loop
        select string_agg(format('sum(t.%I)::bigint as %I', a.attname, a.attname), ', ' order by a.attnum)
          into measures
          from pg_attribute a
         where a.attrelid = format('%I.%I', live_schema, relation)::regclass and a.attnum > 0 and not a.attisdropped
           and a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype);
        perform projections.replace_analytics_view(view_name, format(
          'select t.merchant_id, t.bucket, t.currency, %s, sum(t.gross_amount)::bigint - sum(t.refund_amount)::bigint as net_amount,'
          ' (select count(distinct c.customer_id) from %I.customers_15m c'
          '   where c.merchant_id = t.merchant_id and c.currency = t.currency'
          '     and c.bucket >= t.bucket and c.bucket < t.bucket + interval %L) as unique_customers,'
          ' true as unique_customers_exact, %s as read_model_version'
          ' from %s t group by t.merchant_id, t.bucket, t.currency',
          measures, live_schema, span, live_version, source));
      end loop;

      drop function if exists analytics.sketch_estimate(bytea), analytics.sketch_is_exact(bytea), analytics.sketch_union(bytea[]);

      else
      -- Sketches (v3). Its rollups are complete (it keeps no watermark), so each view reads its table as
      -- it is: the columns but the sketch, net amount, the sketch's estimate and whether it is exact,
      -- the version, and the sketch last.
      for view_name, relation in
        select * from (values ('merchant_metrics_15m', 'metrics_15m'), ('merchant_metrics_hourly', 'metrics_hourly'),
                              ('merchant_metrics_daily', 'metrics_daily'), ('merchant_totals_hourly', 'totals_hourly'),
                              ('merchant_totals_daily', 'totals_daily')) as t
      loop
        select string_agg(format('t.%I', a.attname), ', ' order by a.attnum)
          into columns
          from pg_attribute a
         where a.attrelid = format('%I.%I', live_schema, relation)::regclass and a.attnum > 0 and not a.attisdropped
           and a.attname <> 'customers';
        perform projections.replace_analytics_view(view_name, format(
          'select %s, t.gross_amount - t.refund_amount as net_amount,'
          ' %I.sketch_estimate(t.customers) as unique_customers, %I.sketch_is_exact(t.customers) as unique_customers_exact,'
          ' %s as read_model_version, t.customers from %I.%I t',
          columns, live_schema, live_schema, live_version, live_schema, relation));
      end loop;

      -- Months: the daily rows summed and their sketches merged, once per row of the subquery, so that
      -- the estimate, the flag and the sketch share one union.
      select string_agg(case when a.attname = 'bucket' then 'date_trunc(''month'', t.bucket, ''UTC'') as bucket'
                             when a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype)
                               then format('sum(t.%I)::bigint as %I', a.attname, a.attname)
                             else format('t.%I', a.attname) end, ', ' order by a.attnum),
             string_agg(format('t.%I', a.attname), ', ' order by a.attnum)
               filter (where a.attname <> 'bucket'
                         and a.atttypid not in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype)),
             string_agg(format('m.%I', a.attname), ', ' order by a.attnum)
        into select_list, dimensions, columns
        from pg_attribute a
       where a.attrelid = format('%I.metrics_daily', live_schema)::regclass and a.attnum > 0 and not a.attisdropped
         and a.attname <> 'customers';
      perform projections.replace_analytics_view('merchant_metrics_monthly', format(
        'select %s, m.gross_amount - m.refund_amount as net_amount,'
        ' %I.sketch_estimate(m.customers) as unique_customers, %I.sketch_is_exact(m.customers) as unique_customers_exact,'
        ' %s as read_model_version, m.customers'
        ' from (select %s, %I.sketch_union(array_agg(t.customers) filter (where t.customers is not null)) as customers'
        '         from %I.metrics_daily t group by %s, date_trunc(''month'', t.bucket, ''UTC'')) m',
        columns, live_schema, live_schema, live_version, select_list, live_schema, live_schema, dimensions));

      perform projections.replace_analytics_view('merchant_customers_15m', format(
        'select t.*, %s as read_model_version from projections.analytics_no_customer_ids(%s) t', live_version, live_version));
      execute format('comment on view analytics.merchant_customers_15m is %L', format(
        'No rows: merchant-metrics v%s keeps no customer ids, and reading this view fails. Unique customers are in '
        'unique_customers of the other views; merge their customers sketches with analytics.sketch_union.', live_version));

      -- The functions to merge sketches with, under names that stay when the version changes.
      -- SQL-standard bodies: bound to the live schema's functions when created, inlined where called.
      execute format('create or replace function analytics.sketch_union(sketches bytea[]) returns bytea'
                     ' language sql immutable parallel safe return %I.sketch_union(sketches)', live_schema);
      execute format('create or replace function analytics.sketch_estimate(sketch bytea) returns bigint'
                     ' language sql immutable parallel safe return %I.sketch_estimate(sketch)', live_schema);
      execute format('create or replace function analytics.sketch_is_exact(sketch bytea) returns boolean'
                     ' language sql immutable parallel safe return %I.sketch_is_exact(sketch)', live_schema);
      -- Anyone may execute a function (PostgreSQL's default); what the caller lacks is USAGE on the schema
      -- whose sketch_check the bodies look up at run time. USAGE alone reads no table.
      execute format('grant usage on schema %I to analyst', live_schema);
      end if;

      -- USAGE on no other version's schema (one that went live with sketches before).
      for stale in
        select n.nspname from projections.versions v join pg_namespace n on n.nspname = v.schema_name
         where v.projection = refresh_analytics_views.projection and v.schema_name <> live_schema
           and has_schema_privilege('analyst', n.oid, 'usage')
      loop
        execute format('revoke usage on schema %I from analyst', stale);
      end loop;
    end $fn$`.execute(db);

  await sql`select projections.refresh_analytics_views('merchant-metrics')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function projections.refresh_analytics_views(projection text) returns void
    language plpgsql as $fn$
    declare${sql.raw(DECLARE)}
    begin${sql.raw(FIND_LIVE)}
${sql.raw(CUSTOMER_SET_VIEWS)}    end $fn$`.execute(db);
  await sql`drop view if exists analytics.merchant_totals_hourly, analytics.merchant_totals_daily`.execute(db);
  // Fails while a version with sketches is live, as it must: the views before this migration cannot read it.
  await sql`select projections.refresh_analytics_views('merchant-metrics')`.execute(db);
  await sql`drop function if exists analytics.sketch_estimate(bytea), analytics.sketch_is_exact(bytea), analytics.sketch_union(bytea[])`.execute(db);
  await sql`drop function projections.analytics_no_customer_ids(int)`.execute(db);
  await sql`
    do $$
    declare
      s text;
    begin
      for s in select n.nspname from projections.versions v join pg_namespace n on n.nspname = v.schema_name
                where has_schema_privilege('analyst', n.oid, 'usage') loop
        execute format('revoke usage on schema %I from analyst', s);
      end loop;
    end $$`.execute(db);
}
