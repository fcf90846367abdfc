import type { ColumnType, Generated } from 'kysely';

/** Row types of the tables the application reads and writes with Kysely. */
export interface ProducerAppsTable {
  app_id: string;
  name: string;
  key_hash: Buffer;
  created_at: ColumnType<Date, never, never>;
  revoked_at: ColumnType<Date | null, never, Date | null>;
  /** Null: the app may submit events for any merchant. */
  merchant_ids: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
}

export interface PartitionHeadsTable {
  partition: number;
  head: ColumnType<string, never, string>;
}

export interface PublicationHeadsTable {
  partition: number;
  published: ColumnType<string, never, string>;
  published_at: Date | null;
}

export interface EventsTable {
  partition: number;
  position: ColumnType<string, string | number, never>;
  event_id: string;
  merchant_id: string;
  event_type: string;
  occurred_at: Date;
  recorded_at: Generated<Date>;
  payload: unknown;
  /** The app that sent the event; null for events stored before 2026-12-02. */
  producer_app_id: string | null;
  /** The command API request that stored it (its X-Request-Id); null as above. */
  request_id: string | null;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface Database {
  'access.producer_apps': ProducerAppsTable;
  'event_store.partition_heads': PartitionHeadsTable;
  'event_store.publication_heads': PublicationHeadsTable;
  'event_store.events': EventsTable;
  'event_store.settings': SettingsTable;
}
