import { sql, type Kysely } from 'kysely';

/**
 * The projection registry: every read-model version, its status and
 * per-partition checkpoints, which version is live, and the partition leases
 * projector processes share work with. The read-model tables themselves are
 * created per version by the projection code (a version is code plus tables).
 *
 * TimescaleDB is detected here: if the extension is installed, or available and
 * creatable, read models use hypertables and continuous aggregates; otherwise
 * native partitions and projector-maintained rollups. The choice is recorded
 * in projections.settings so every process agrees.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    do $$
    begin
      if not exists (select 1 from pg_extension where extname = 'timescaledb')
         and exists (select 1 from pg_available_extensions where name = 'timescaledb') then
        begin
          create extension timescaledb;
        exception when others then
          raise notice 'timescaledb is available but cannot be created here (%); using native partitions', sqlerrm;
        end;
      end if;
    end
    $$`.execute(db);

  await sql`create schema projections`.execute(db);
  await sql`
    create table projections.settings (
      key   text primary key,
      value text not null
    )`.execute(db);
  await sql`
    insert into projections.settings (key, value)
    select 'engine', case when exists (select 1 from pg_extension where extname = 'timescaledb')
                          then 'timescaledb' else 'postgres' end`.execute(db);

  await sql`
    create table projections.versions (
      projection       text        not null,
      version          int         not null check (version > 0),
      schema_name      text        not null unique,
      engine           text        not null check (engine in ('postgres', 'timescaledb')),
      status           text        not null check (status in ('building', 'catching_up', 'live', 'retired')),
      code_revision    text        not null,
      started_at       timestamptz not null default now(),
      finished_at      timestamptz,
      primary key (projection, version)
    )`.execute(db);
  await sql`
    create table projections.checkpoints (
      projection  text        not null,
      version     int         not null,
      partition   smallint    not null,
      position    bigint      not null default 0,
      -- recorded_at of the event at position: the read model's watermark.
      recorded_at timestamptz,
      -- events applied (after skipping duplicates) since the version was installed.
      events      bigint      not null default 0,
      updated_at  timestamptz not null default now(),
      primary key (projection, version, partition),
      foreign key (projection, version) references projections.versions on delete cascade
    )`.execute(db);
  await sql`
    create table projections.live (
      projection       text        primary key,
      version          int         not null,
      previous_version int,
      switched_at      timestamptz not null default now(),
      foreign key (projection, version) references projections.versions
    )`.execute(db);
  // Projector processes announce themselves here so each can take a fair share of partitions.
  await sql`
    create table projections.members (
      projection text        not null,
      version    int         not null,
      owner      text        not null,
      expires_at timestamptz not null,
      primary key (projection, version, owner),
      foreign key (projection, version) references projections.versions on delete cascade
    )`.execute(db);
  await sql`
    create table projections.leases (
      projection text        not null,
      version    int         not null,
      partition  smallint    not null,
      owner      text        not null,
      expires_at timestamptz not null,
      primary key (projection, version, partition),
      foreign key (projection, version) references projections.versions on delete cascade
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop schema projections cascade`.execute(db);
}
