import { sql, type Kysely } from 'kysely';

/**
 * Every installed version gets `merchant_watermarks` (per merchant, the
 * position of its latest event in the version; see read-model-tables.ts),
 * empty: filling it would read the whole event store here. The projector
 * writes a merchant's row with its next batch; until then that merchant's
 * answers are not cached. A version built from now on (rebuild or projector)
 * has every row.
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
                where exists (select from pg_namespace n where n.nspname = v.schema_name)
      loop
        execute format('create table if not exists %I.merchant_watermarks (
                          merchant_id text collate "C" primary key,
                          partition   smallint not null,
                          position    bigint   not null)', s);
        -- The roles of 2026-12-02T01-00-least-privilege, which ran before.
        execute format('grant select, insert, update, delete on %I.merchant_watermarks to projection_writer', s);
        execute format('grant select on %I.merchant_watermarks to read_model_reader', s);
      end loop;
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    do $$
    declare
      s text;
    begin
      for s in select v.schema_name from projections.versions v
                where exists (select from pg_namespace n where n.nspname = v.schema_name)
      loop
        execute format('drop table if exists %I.merchant_watermarks', s);
      end loop;
    end $$`.execute(db);
}
