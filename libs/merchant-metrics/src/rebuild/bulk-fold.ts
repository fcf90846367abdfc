import { assertSchemaName, advanceCheckpoint, type SqlClient } from '@app/projections';
import { partitionTable } from '@app/event-store';
import type { ProjectionTarget } from '../projection/apply-events.js';
import { ADD_TO_CELLS, addPartitionKeys, CELL_COLUMNS, CELL_KEY, rollUpSql, UPSERT_MERCHANT_WATERMARKS, UTC_EPOCH } from '../schema/read-model-tables.js';
import { customerHashSql } from '@app/sketches';
import { MEASURES } from '../schema/measures.js';
import { foldSketchTables } from './sketch-fold.js';

/** bucketOf's grid: 15 minutes from a UTC midnight. */
const BUCKET = `date_bin('15 minutes', e.occurred_at, ${UTC_EPOCH})`;
const METHOD = `case when b->>'method' like 'PAYMENT\\_METHOD\\_%' then substr(b->>'method', 16) else b->>'method' end`;
const SUMS = MEASURES.map((m) => `${m.fold}::bigint as ${m.column}`).join(',\n  ');

const TEMP_BUFFERS = '512MB';

/**
 * temp_buffers can change only before the session's first temp table, so it
 * is set for the session (a pooled connection keeps it; the memory is taken
 * only as temp tables fill it), outside any transaction, and left alone
 * where the session already used temp tables (PostgreSQL refuses then).
 */
async function setTempBuffers(client: SqlClient): Promise<void> {
  const { rows } = await client.query<{ value: string }>(`select current_setting('temp_buffers') as value`);
  if (rows[0].value !== TEMP_BUFFERS) await client.query(`set temp_buffers = '${TEMP_BUFFERS}'`).catch(() => undefined);
}

export interface BulkFoldResult {
  /** The partition's new checkpoint (unchanged when no event followed it). */
  position: number;
  events: number;
}

/**
 * Folds the next `maxEvents` events of a partition after its checkpoint
 * `from` inside PostgreSQL, set-based, into the version's tables, in one
 * transaction with the checkpoint's move. The fold is the version's own logic
 * expressed in SQL (its `bulkFold`); bulk-fold.int-spec.ts proves it builds
 * exactly what `apply` builds, for every version, in chunks of any size.
 * Nothing leaves the database, so a rebuild runs at the speed of PostgreSQL's
 * scans, hash aggregates and inserts.
 *
 * From zero, the partition's merchants have no rows yet, so plain INSERTs
 * suffice, and the tables may lack their primary keys: with `buildKeys`
 * (deferred keys, read-model partitions matching the store's) the
 * partition's keys are built before COMMIT from the rows just written. After
 * zero, cells are added to existing ones (INSERT … ON CONFLICT), which needs
 * the keys. `client` must be one connection. Throws CheckpointMovedError when
 * the checkpoint is no longer `from`.
 */
export async function bulkFoldPartition(
  client: SqlClient,
  target: ProjectionTarget,
  partition: number,
  options: { from: number; maxEvents: number; buildKeys: boolean },
): Promise<BulkFoldResult> {
  const { from, maxEvents } = options;
  const fresh = from === 0;
  const s = assertSchemaName(target.schemaName);
  const store = partitionTable(partition);
  const sketches = target.logic.layout === 'sketches';
  await setTempBuffers(client);
  await client.query('begin');
  try {
    // A chunk's temp tables, hash aggregates and index sorts stay in memory
    // (at 8 MB of temp buffers and 64 MB for index builds, the defaults, they
    // spill to disk); an orphaned backend (its rebuild was killed) notices
    // within a second and rolls back.
    await client.query(`set local work_mem = '256MB'`);
    await client.query(`set local maintenance_work_mem = '512MB'`);
    await client.query(`set local client_connection_check_interval = '1s'`);
    // One snapshot of the positions after the checkpoint: they commit in order, so it has no holes.
    await client.query(
      `create temp table rebuild_events on commit drop as
       select e.position, k.kind, e.merchant_id collate "C" as merchant_id, ${BUCKET} as bucket,
              b->'amount'->>'currency' collate "C" as currency, (${METHOD}) collate "C" as payment_method, b->>'storeId' collate "C" as store_id,
              (b->'amount'->>'minorUnits')::bigint as amount, b->>'customerId' collate "C" as customer_id, b->>'paymentId' collate "C" as payment_id
              ${sketches ? `, case when k.kind = 'c' then ${customerHashSql(`(b->>'customerId')`)} end as hash` : ''}
       from ${store} e
       cross join lateral (select case when e.payload ? 'paymentCompleted' then 'c' when e.payload ? 'paymentFailed' then 'f'
                                       when e.payload ? 'paymentRefunded' then 'r' end as kind) k
       cross join lateral (select coalesce(e.payload->'paymentCompleted', e.payload->'paymentFailed', e.payload->'paymentRefunded') as b) x
       where e.position > $1 and e.position <= $1::bigint + $2`,
      [from, maxEvents],
    );
    const { rows } = await client.query<{ events: string; position: string | null; recorded_at: string | null }>(
      `select n.events, n.position,
              (select to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') from ${store} where position = n.position) as recorded_at
       from (select count(*) as events, max(position) as position from rebuild_events) n`,
    );
    const events = Number(rows[0].events);
    if (events === 0) {
      await client.query('rollback');
      return { position: from, events: 0 };
    }
    const position = Number(rows[0].position);
    await advanceCheckpoint(client, { projection: target.projection, version: target.version, partition }, from,
      { position, recordedAt: rows[0].recorded_at!, events });

    const byPayment = target.logic.bulkFold.refundBucket === 'payment';
    if (byPayment) {
      // Each payment's first completion in the chunk.
      await client.query(
        `create temp table rebuild_payments on commit drop as
         select distinct on (merchant_id, payment_id) merchant_id, payment_id, bucket, position
         from rebuild_events where kind = 'c' order by merchant_id, payment_id, position`,
      );
    }
    if (!sketches) {
      await client.query(
        `insert into ${s}.customers_15m as t (${CELL_KEY}, customer_id)
         select distinct ${CELL_KEY}, customer_id from rebuild_events where kind = 'c'
         ${fresh ? '' : 'on conflict do nothing'}`,
      );
    }
    // Refunds (a tenth of the events) look their payment up, first among those stored before the
    // chunk, then among the chunk's completions before them; the rest pass straight through.
    const source = byPayment
      ? `(select merchant_id, bucket, currency, payment_method, store_id, kind, amount from rebuild_events where kind <> 'r'
          union all
          select r.merchant_id, coalesce(${fresh ? '' : 'k.bucket, '}p.bucket, r.bucket), r.currency, r.payment_method, r.store_id, r.kind, r.amount
          from rebuild_events r
          ${fresh ? '' : `left join ${s}.payments k on k.merchant_id = r.merchant_id and k.payment_id = r.payment_id`}
          left join rebuild_payments p on p.merchant_id = r.merchant_id and p.payment_id = r.payment_id and p.position < r.position
          where r.kind = 'r')`
      : 'rebuild_events';
    await client.query(
      `create temp table rebuild_cells on commit drop as
       select e.merchant_id, e.bucket, e.currency, e.payment_method, e.store_id, ${SUMS}
       from ${source} e
       where e.kind is not null
       group by 1, 2, 3, 4, 5`,
    );
    if (byPayment) {
      // After the lookups above, which must not see the chunk's own payments this way.
      await client.query(
        `insert into ${s}.payments as t (merchant_id, payment_id, bucket) select merchant_id, payment_id, bucket from rebuild_payments
         ${fresh ? '' : 'on conflict do nothing'}`,
      );
    }
    const addTo = fresh ? '' : ADD_TO_CELLS;
    if (sketches) await foldSketchTables(client, s, fresh);
    else await client.query(`insert into ${s}.metrics_15m as t (${CELL_COLUMNS}) select ${CELL_COLUMNS} from rebuild_cells ${addTo}`);
    if (target.engine === 'postgres' && !sketches) {
      for (const [table, width] of [['metrics_hourly', '1 hour'], ['metrics_daily', '1 day']] as const) {
        await client.query(`insert into ${s}.${table} as t (${CELL_COLUMNS}) ${rollUpSql('rebuild_cells', width)} ${addTo}`);
      }
    }
    await client.query(UPSERT_MERCHANT_WATERMARKS(s, 'select merchant_id, $1::smallint, max(position) from rebuild_events group by merchant_id'), [partition]);
    if (fresh && options.buildKeys) await addPartitionKeys(client, s, partition, target.logic.layout);
    await client.query('commit');
    return { position, events };
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}
