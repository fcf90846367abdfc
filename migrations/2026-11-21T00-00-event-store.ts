import { Kysely, sql } from 'kysely';

/**
 * The event store: one table hash-partitioned by merchant, with a gapless,
 * commit-ordered position per partition, a global event-id index for
 * idempotency, and immutability enforced by the database itself.
 *
 * Frozen: never import application code here.
 */
const DEFAULT_PARTITIONS = 16;

function partitionCount(): number {
  const raw = process.env.EVENT_STORE_PARTITIONS;
  if (raw === undefined || raw === '') return DEFAULT_PARTITIONS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new Error(`EVENT_STORE_PARTITIONS must be an integer between 1 and 256, got "${raw}"`);
  }
  return n;
}

export async function up(db: Kysely<any>): Promise<void> {
  const partitions = partitionCount();
  await sql`create schema event_store`.execute(db);

  await sql`
    create table event_store.settings (
      key text primary key,
      value text not null
    )`.execute(db);
  await sql`insert into event_store.settings (key, value) values ('partitions', ${String(partitions)})`.execute(db);

  await sql`
    create table event_store.events (
      partition   smallint    not null,
      position    bigint      not null,
      event_id    uuid        not null,
      merchant_id text        not null,
      event_type  text        not null,
      occurred_at timestamptz not null,
      recorded_at timestamptz not null default now(),
      payload     jsonb       not null
    ) partition by hash (merchant_id)`.execute(db);

  for (let p = 0; p < partitions; p++) {
    const child = sql.table(`event_store.${childName(p)}`);
    await sql`create table ${child} partition of event_store.events
              for values with (modulus ${sql.lit(partitions)}, remainder ${sql.lit(p)})`.execute(db);
    // The application computes the partition number; this constraint makes a
    // mismatch with PostgreSQL's own hash routing fail loudly instead of
    // silently filing an event under the wrong position sequence.
    await sql`alter table ${child} add constraint ${sql.ref(`${childName(p)}_partition_check`)}
              check (partition = ${sql.lit(p)})`.execute(db);
    await sql`create unique index ${sql.ref(`${childName(p)}_position`)} on ${child} (position)`.execute(db);
  }

  // Idempotency: event ids are unique across the whole store, whichever
  // merchant (and so partition) they were submitted under.
  await sql`
    create table event_store.event_ids (
      event_id  uuid     primary key,
      body_hash bytea    not null
    )`.execute(db);

  // Appends take the partition's head row lock, so positions within a
  // partition are assigned and committed in order, with no holes.
  await sql`
    create table event_store.partition_heads (
      partition smallint primary key,
      head      bigint   not null default 0
    )`.execute(db);
  await sql`
    create table event_store.publication_heads (
      partition    smallint    primary key,
      published    bigint      not null default 0,
      published_at timestamptz
    )`.execute(db);
  await sql`insert into event_store.partition_heads (partition) select generate_series(0, ${partitions - 1})`.execute(db);
  await sql`insert into event_store.publication_heads (partition) select generate_series(0, ${partitions - 1})`.execute(db);

  await sql`
    create function event_store.refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'event store is immutable: % on %.% is not allowed', tg_op, tg_table_schema, tg_table_name
        using errcode = 'insufficient_privilege';
    end $$`.execute(db);
  const immutable = ['events', 'event_ids', ...Array.from({ length: partitions }, (_, p) => childName(p))];
  for (const table of immutable) {
    const t = sql.table(`event_store.${table}`);
    if (table === 'events' || table === 'event_ids') {
      await sql`create trigger refuse_update_delete before update or delete on ${t}
                for each row execute function event_store.refuse_change()`.execute(db);
    }
    // TRUNCATE of a partition does not fire the parent's trigger: every table gets its own.
    await sql`create trigger refuse_truncate before truncate on ${t}
              for each statement execute function event_store.refuse_change()`.execute(db);
  }

  await sql`create schema access`.execute(db);
  await sql`
    create table access.producer_apps (
      app_id     uuid        primary key,
      name       text        not null unique,
      key_hash   bytea       not null unique,
      created_at timestamptz not null default now(),
      revoked_at timestamptz
    )`.execute(db);

  // Roles are cluster-wide; create them only where missing.
  await sql`
    do $$
    begin
      if not exists (select from pg_roles where rolname = 'payments_writer') then
        create role payments_writer nologin;
      end if;
    end $$`.execute(db);
  await sql`grant usage on schema event_store, access to payments_writer`.execute(db);
  await sql`grant select, insert on all tables in schema event_store to payments_writer`.execute(db);
  await sql`grant update on event_store.partition_heads, event_store.publication_heads to payments_writer`.execute(db);
  await sql`grant select, insert, update on access.producer_apps to payments_writer`.execute(db);
}

function childName(p: number): string {
  return `events_p${String(p).padStart(2, '0')}`;
}

export async function down(): Promise<void> {
  throw new Error('the event store is never dropped by a migration');
}
