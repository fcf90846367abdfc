/**
 * fold-lab — two ways for the projector to apply a partition's batch to v3,
 * on the same events, in the same run: `applyEvents` (the events read from
 * the store into the projector, aggregated there, rows and sketches sent
 * back), and `bulkFoldPartition` (the rebuild's set-based SQL: the batch's
 * positions folded inside PostgreSQL, merging into the rows already there).
 * For a population of many merchants, where a batch is about one row per
 * event in each of v3's nine tables, the projector's own CPU (bench:backlog: 30%
 * garbage collection) and not PostgreSQL set its pace.
 *
 *   node scripts/run-ts.mjs bench/fold-lab.ts [--events N (200000)] [--merchants N (10000)] [--batch N (20000)]
 *
 * Each path on its own database holding the same events (stored through
 * EventStore.append, as the command API stores them). Both read every
 * partition from its checkpoint to its head in batches of --batch events.
 * At the end every table of the two versions is compared row for row (an
 * md5 of its rows in key order): they must be equal, or the exit code is 1.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createKysely, createPool, migrateToLatest, PreparedStatementClient } from '@app/database';
import { EventStore, readPartition, readPartitionCount } from '@app/event-store';
import { applyEvents, bulkFoldPartition, merchantMetricsLogic, PROJECTION_NAME, SketchCache, type ProjectionTarget, merchantMetricsProjection } from '@app/merchant-metrics';
import { installVersion, type PaymentEventJson, type PositionedEvent } from '@app/projections';
import type pg from 'pg';
import { numberFlag } from './support/args.js';
import { Resources, startPostgres, withClient } from './support/stack.js';

const METHODS = ['PAYMENT_METHOD_CARD', 'PAYMENT_METHOD_WALLET', 'PAYMENT_METHOD_QR', 'PAYMENT_METHOD_BANK_TRANSFER', 'PAYMENT_METHOD_POINTS'];

/** Many merchants' traffic over the last day: completions, a tenth refunds of earlier payments of the same merchant. */
function traffic(count: number, merchants: number, end: number): PaymentEventJson[] {
  const events: PaymentEventJson[] = [];
  for (let i = 0; i < count; i++) {
    const m = (i * 7919) % merchants;
    const occurredAt = new Date(end - 86_400_000 + Math.floor((i / count) * 86_400_000)).toISOString();
    const base = { eventId: randomUUID(), merchantId: `m-${m}`, occurredAt };
    const store = `store-${i % 3}`;
    const method = METHODS[i % 5];
    if (i % 10 === 9 && i >= merchants * 2) {
      // A payment of the same merchant made earlier (i - merchants has the same m).
      const paid = i - merchants;
      events.push({ ...base, paymentRefunded: { paymentId: `p-${paid}`, refundId: `r-${i}`, storeId: `store-${paid % 3}`, method: METHODS[paid % 5], amount: { currency: 'JPY', minorUnits: '50' } } });
    } else if (i % 10 === 8) {
      events.push({ ...base, paymentFailed: { paymentId: `p-${i}`, customerId: `c-${i % 50_000}`, storeId: store, method, amount: { currency: 'JPY', minorUnits: '700' }, reason: 'declined' } } as PaymentEventJson);
    } else {
      events.push({ ...base, paymentCompleted: { paymentId: `p-${i}`, customerId: `c-${(i * 104729) % 50_000}`, storeId: store, method, amount: { currency: 'JPY', minorUnits: String(100 + (i % 900)) } } });
    }
  }
  return events;
}

const kindOf = (e: PaymentEventJson) => (e.paymentCompleted ? 'payment_completed' : e.paymentFailed ? 'payment_failed' : 'payment_refunded');

async function prepare(pool: pg.Pool, events: PaymentEventJson[]): Promise<{ target: ProjectionTarget; partitions: number }> {
  await migrateToLatest(createKysely(pool));
  const partitions = await readPartitionCount(pool);
  const store = new EventStore(pool, partitions);
  for (let i = 0; i < events.length; i += 5000) {
    await store.append(events.slice(i, i + 5000).map((e) => {
      const payloadJson = JSON.stringify(e);
      return { eventId: e.eventId, merchantId: e.merchantId, type: kindOf(e), occurredAt: e.occurredAt, payloadJson, bodyHash: createHash('sha256').update(payloadJson).digest() };
    }));
  }
  const client = await pool.connect();
  try {
    const installed = await installVersion(client, merchantMetricsProjection, { version: 3, partitions, codeRevision: 'fold-lab', engine: 'postgres' });
    await client.query('vacuum analyze event_store.events');
    return { partitions, target: { projection: PROJECTION_NAME, version: 3, schemaName: installed.schemaName, engine: 'postgres', logic: merchantMetricsLogic(3) } };
  } finally {
    client.release();
  }
}

async function tableDigests(pool: pg.Pool, schema: string): Promise<Map<string, string>> {
  const { rows: tables } = await pool.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relkind in ('r', 'p') and not c.relispartition order by 1`, [schema]);
  const digests = new Map<string, string>();
  for (const { name } of tables) {
    const { rows } = await pool.query<{ digest: string; n: string }>(`select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest, count(*)::text as n from ${schema}.${name} t`);
    digests.set(name, `${rows[0]!.n} rows ${rows[0]!.digest}`);
  }
  return digests;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const count = numberFlag(args, '--events', 200_000);
  const merchants = numberFlag(args, '--merchants', 10_000);
  const batch = numberFlag(args, '--batch', 20_000);
  const resources = new Resources();
  try {
    const server = await startPostgres(resources);
    const events = traffic(count, merchants, Date.now() - 3_600_000);
    const results: Array<{ path: string; seconds: number; digests: Map<string, string> }> = [];
    for (const path of ['apply', 'fold'] as const) {
      await withClient(server.adminUrl, (c) => c.query(`create database lab_${path}`));
      const pool = createPool({ connectionString: server.url(`lab_${path}`), max: 2 });
      const { target, partitions } = await prepare(pool, events);
      const cache = new SketchCache(8 * 1024 * 1024);
      const client = await pool.connect();
      const began = performance.now();
      let applied = 0;
      for (let partition = 0; partition < partitions; partition++) {
        let checkpoint = 0;
        for (;;) {
          if (path === 'apply') {
            const rows = await readPartition(pool, partition, checkpoint, batch);
            if (rows.length === 0) break;
            const positioned: PositionedEvent[] = rows.map((r) => ({ position: r.position, recordedAt: r.recordedAt, event: JSON.parse(r.payloadJson) as PaymentEventJson }));
            checkpoint = await applyEvents(new PreparedStatementClient(client), target, partition, checkpoint, positioned, { sketchCache: cache });
            applied += rows.length;
          } else {
            const result = await bulkFoldPartition(client, target, partition, { from: checkpoint, maxEvents: batch, buildKeys: false });
            if (result.events === 0) break;
            checkpoint = result.position;
            applied += result.events;
          }
        }
      }
      const seconds = (performance.now() - began) / 1000;
      client.release();
      if (applied !== count) throw new Error(`${path}: applied ${applied} of ${count} events`);
      console.log(`${path}: ${count.toLocaleString('en-US')} events of ${merchants.toLocaleString('en-US')} merchants in batches of ${batch.toLocaleString('en-US')}: ${seconds.toFixed(1)} s, ${Math.round(count / seconds).toLocaleString('en-US')} events/s`);
      results.push({ path, seconds, digests: await tableDigests(pool, target.schemaName) });
      await pool.end();
    }
    const [apply, fold] = results;
    console.log(`fold / apply events/s: ${(apply!.seconds / fold!.seconds).toFixed(2)}`);
    let same = true;
    for (const [table, digest] of apply!.digests) {
      const other = fold!.digests.get(table);
      if (table === 'merchant_watermarks' || other === digest) continue;
      same = false;
      console.log(`MISMATCH ${table}: apply ${digest}, fold ${other}`);
    }
    console.log(same ? `tables equal (${apply!.digests.size}, merchant_watermarks aside)` : 'tables differ');
    if (!same) process.exitCode = 1;
  } finally {
    await resources.cleanup();
  }
}

await main();
