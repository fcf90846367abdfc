import type { DuckDBConnection } from '@duckdb/node-api';
import type pg from 'pg';
import { partitionTable } from '@app/event-store';
import { parquetFiles } from './duckdb.js';

/**
 * Every column of a stored event as the archive keeps it: what verify
 * compares and restore brings back. Times are microseconds since the epoch,
 * the payload is PostgreSQL's `payload::text`, the body hash hex.
 */
export interface ArchivedRow {
  position: number;
  eventId: string;
  merchantId: string;
  eventType: string;
  occurredAt: bigint;
  recordedAt: bigint;
  payload: string;
  bodyHash: string;
  producerAppId: string | null;
  requestId: string | null;
}

export const ROW_FIELDS = ['eventId', 'merchantId', 'eventType', 'occurredAt', 'recordedAt', 'payload', 'bodyHash', 'producerAppId', 'requestId'] as const;

interface StoreRow {
  position: string;
  event_id: string;
  merchant_id: string;
  event_type: string;
  occurred_us: string;
  recorded_us: string;
  payload: string;
  body_hash: string;
  producer_app_id: string | null;
  request_id: string | null;
}

/**
 * A partition's rows after `afterPosition` and at most through `through`,
 * in position order, at most `limit` of them, with each event's body hash
 * (looked up per row: a join lets a generic plan hash all of event_ids for
 * every batch). extract(epoch …) is numeric, so the microseconds are exact.
 */
export async function readStoreRows(
  client: pg.Pool | pg.PoolClient,
  partition: number,
  afterPosition: number,
  through: number,
  limit: number,
): Promise<ArchivedRow[]> {
  const { rows } = await client.query<StoreRow>({
    name: `archive-read-p${partition}`,
    text: `select s.position, s.event_id::text as event_id, s.merchant_id, s.event_type,
                  (extract(epoch from s.occurred_at) * 1000000)::bigint::text as occurred_us,
                  (extract(epoch from s.recorded_at) * 1000000)::bigint::text as recorded_us,
                  s.payload::text as payload,
                  encode((select i.body_hash from event_store.event_ids i where i.event_id = s.event_id), 'hex') as body_hash,
                  s.producer_app_id::text as producer_app_id, s.request_id
           from ${partitionTable(partition)} s
           where s.position > $1 and s.position <= $2 order by s.position limit $3`,
    values: [afterPosition, through, limit],
  });
  return rows.map((r) => ({
    position: Number(r.position),
    eventId: r.event_id,
    merchantId: r.merchant_id,
    eventType: r.event_type,
    occurredAt: BigInt(r.occurred_us),
    recordedAt: BigInt(r.recorded_us),
    payload: r.payload,
    bodyHash: r.body_hash,
    producerAppId: r.producer_app_id,
    requestId: r.request_id,
  }));
}

/** The rows of Parquet files at positions first to last, in position order. */
export async function readFileRows(connection: DuckDBConnection, paths: string[], first: number, last: number): Promise<ArchivedRow[]> {
  const reader = await connection.runAndReadAll(
    `select position, event_id::varchar, merchant_id, event_type, epoch_us(occurred_at), epoch_us(recorded_at),
            payload::varchar, lower(hex(body_hash)), producer_app_id::varchar, request_id
     from ${parquetFiles(paths)} where position between ${first} and ${last} order by position`,
  );
  return reader.getRows().map((r) => ({
    position: Number(r[0] as bigint),
    eventId: r[1] as string,
    merchantId: r[2] as string,
    eventType: r[3] as string,
    occurredAt: r[4] as bigint,
    recordedAt: r[5] as bigint,
    payload: r[6] as string,
    bodyHash: r[7] as string,
    producerAppId: r[8] as string | null,
    requestId: r[9] as string | null,
  }));
}
