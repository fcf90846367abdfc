import { sql, type Kysely } from 'kysely';

/**
 * The analysts' views follow each projection's live version through one
 * generic trigger: projections.live's trigger calls the refresher a
 * projection registered in projections.view_refreshers (a function taking
 * the projection's name), and nothing for a projection without one. Before,
 * the trigger called merchant-metrics' refresher for every projection, which
 * returned unless the name was merchant-metrics; that function is now the
 * registered refresher of merchant-metrics and keeps its body.
 *
 * The trigger function runs as its owner (security definer, as
 * 2026-12-02T01-00-least-privilege made it), so the roles that move
 * projections.live need no right on the registry.
 *
 * Frozen: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table projections.view_refreshers (
      projection text primary key,
      refresher  regproc not null
    )`.execute(db);
  await sql`insert into projections.view_refreshers values ('merchant-metrics', 'projections.refresh_analytics_views')`.execute(db);
  await sql`
    create or replace function projections.analytics_follow_live() returns trigger
    language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
    declare
      refresher regproc;
    begin
      select r.refresher into refresher from projections.view_refreshers r where r.projection = new.projection;
      if found then
        execute format('select %s($1)', refresher) using new.projection;
      end if;
      return null;
    end $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function projections.analytics_follow_live() returns trigger
    language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
    begin
      perform projections.refresh_analytics_views(new.projection);
      return null;
    end $fn$`.execute(db);
  await sql`drop table projections.view_refreshers`.execute(db);
}
