import { sql, type Kysely } from 'kysely';

/**
 * Native rollups behind a watermark (libs/merchant-metrics, registry/rollup-watermark.ts):
 * - every installed read-model version gets its `rollup_watermark` table,
 *   empty: no watermark, so its rollups (maintained in full until now) are
 *   read everywhere, as before;
 * - the analysts' hourly, daily and monthly views read a rollup below the
 *   version's lowest watermark and the 15-minute table above it, as the
 *   query API does.
 *
 * Frozen: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    do $$
    declare
      s text;
    begin
      for s in select v.schema_name from projections.versions v
                where exists (select from pg_namespace n where n.nspname = v.schema_name) loop
        execute format('create table if not exists %I.rollup_watermark (partition smallint primary key, materialized_until timestamptz not null)', s);
      end loop;
    end $$`.execute(db);

  // The rollup's own columns, in its order: integer columns are measures (summed from the 15-minute
  // table), the others dimensions, bucket on the rollup's grid; a column the 15-minute table lacks is null.
  await sql`
    create function projections.rollup_with_tail(schema_name text, rollup text, width text, watermark text) returns text
    language plpgsql stable as $fn$
    declare
      select_list text;
      group_list  text;
    begin
      select string_agg(case
               when c.name = 'bucket' then format('date_bin(%L, q.bucket, timestamptz ''2000-01-01 00:00:00+00'') as bucket', width)
               when not c.in_base then format('null::%s as %I', c.type, c.name)
               when c.measure then format('sum(q.%I)::bigint as %I', c.name, c.name)
               else format('q.%I', c.name) end, ', ' order by c.n),
             string_agg(c.n::text, ', ' order by c.n) filter (where not c.measure)
        into select_list, group_list
        from (select a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
                     row_number() over (order by a.attnum) as n,
                     a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype) as measure,
                     exists (select from pg_attribute b
                              where b.attrelid = format('%I.metrics_15m', schema_name)::regclass
                                and b.attname = a.attname and b.attnum > 0 and not b.attisdropped) as in_base
                from pg_attribute a
               where a.attrelid = format('%I.%I', schema_name, rollup)::regclass and a.attnum > 0 and not a.attisdropped) c;
      return format('(select * from %I.%I r where r.bucket < %s union all select %s from %I.metrics_15m q where q.bucket >= %s group by %s)',
                    schema_name, rollup, watermark, select_list, schema_name, watermark, group_list);
    end $fn$`.execute(db);

  await sql`
    create or replace function projections.refresh_analytics_views(projection text) returns void
    language plpgsql as $fn$
    declare
      live_version int;
      live_schema  text;
      dimensions   text;
      select_list  text;
      watermark    text;
      hourly       text;
      daily        text;
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
    end $fn$`.execute(db);

  await sql`select projections.refresh_analytics_views('merchant-metrics')`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('2026-11-21T03-00-rollup-watermark cannot be undone: the projector no longer maintains rollups above the watermark');
}
