/**
 * writer-lab — how many events/s one partition's projector path (applyEvents:
 * aggregate a batch, one transaction with its checkpoint) applies per
 * read-model version, for one large merchant's traffic (40 stores, 5
 * methods, many customers, ~10% refunds of earlier payments), in the batch
 * sizes the projector uses. No NATS, no event store reads: the writer alone,
 * to compare versions in the same run on the same server.
 *
 *   node scripts/run-ts.mjs bench/writer-lab.ts [--events N] [--batch N] [--versions 2,3] [--cache-mb 0,64] [--merchants N (1)]
 *
 * --cache-mb: the sizes of the projector's sketch cache to run v3 (and later) with, one run each (0: none).
 */
import { createKysely, createPool, migrateToLatest } from '@app/database';
import { applyEvents, SketchCache, merchantMetricsLogic, PROJECTION_NAME, merchantMetricsProjection } from '@app/merchant-metrics';
import { installVersion, type PaymentEventJson, type PositionedEvent } from '@app/projections';
import { numberFlag } from './support/args.js';
import { Resources, startPostgres, withClient } from './support/stack.js';

const METHODS = ['PAYMENT_METHOD_CARD', 'PAYMENT_METHOD_WALLET', 'PAYMENT_METHOD_QR', 'PAYMENT_METHOD_BANK_TRANSFER', 'PAYMENT_METHOD_POINTS'];

/** The whale's events in occurredAt order, a little after real time, as live traffic arrives. */
function* whaleTraffic(count: number, start: number, merchants: number): Generator<PaymentEventJson> {
  for (let i = 0; i < count; i++) {
    // One merchant: 25,000 events a second of business time. Several: spread over the day before `start` (bench:freshness's background load).
    const occurredAt = new Date(merchants === 1 ? start + i * 40 : start - ((i * 7_919_993) % 86_400_000)).toISOString();
    const base = { eventId: crypto.randomUUID(), merchantId: merchants === 1 ? 'whale' : `m-${(i * 7919) % merchants}`, occurredAt };
    const store = `store-${(i * 7919) % 40}`;
    const method = METHODS[i % 5];
    if (i % 10 === 9 && i > 1000) {
      yield { ...base, paymentRefunded: { paymentId: `p-${i - 1000}`, refundId: `r-${i}`, storeId: store, method, amount: { currency: 'JPY', minorUnits: '100' } } };
    } else {
      yield {
        ...base,
        paymentCompleted: { paymentId: `p-${i}`, customerId: `c-${(i * 104729) % 500_000}`, storeId: store, method, amount: { currency: 'JPY', minorUnits: String(100 + (i % 900)) } },
      };
    }
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const events = numberFlag(args, '--events', 200_000);
  const batch = numberFlag(args, '--batch', 5000);
  const merchants = numberFlag(args, '--merchants', 1);
  const versionsAt = args.indexOf('--versions');
  const versions = versionsAt >= 0 ? args[versionsAt + 1].split(',').map(Number) : [2, 3];
  const cachesAt = args.indexOf('--cache-mb');
  const cacheSizes = cachesAt >= 0 ? args[cachesAt + 1].split(',').map(Number) : [0, 64];
  const runs = versions.flatMap((version) => (version < 3 ? [{ version, cacheMb: 0 }] : cacheSizes.map((cacheMb) => ({ version, cacheMb }))));
  const resources = new Resources();
  try {
    const pg = await startPostgres(resources);
    const start = Date.now() - 3_600_000;
    for (const [run, { version, cacheMb }] of runs.entries()) {
      // Each run on its own database, so that every one starts from an empty read model.
      await withClient(pg.adminUrl, (c) => c.query(`create database lab_${run}`));
      const pool = createPool({ connectionString: pg.url(`lab_${run}`), max: 2 });
      await migrateToLatest(createKysely(pool));
      const client = await pool.connect();
      const installed = await installVersion(client, merchantMetricsProjection, { version, partitions: 16, codeRevision: 'lab', engine: 'postgres' });
      const sketchCache = cacheMb > 0 ? new SketchCache(cacheMb * 1024 * 1024) : undefined;
      const target = { projection: PROJECTION_NAME, version, schemaName: installed.schemaName, engine: 'postgres' as const, logic: merchantMetricsLogic(version) };
      let position = 0;
      let pending: PositionedEvent[] = [];
      const began = performance.now();
      for (const event of whaleTraffic(events, start, merchants)) {
        pending.push({ position: position + pending.length + 1, recordedAt: new Date().toISOString(), event });
        if (pending.length === batch) {
          position = await applyEvents(client, target, 0, position, pending, { sketchCache });
          pending = [];
        }
      }
      if (pending.length > 0) position = await applyEvents(client, target, 0, position, pending, { sketchCache });
      const seconds = (performance.now() - began) / 1000;
      client.release();
      await pool.end();
      console.log(`v${version}${sketchCache ? ` (sketch cache ${cacheMb} MB: ${(sketchCache.bytes / 1048576).toFixed(1)} MB held)` : ''}: ${events} events in batches of ${batch}: ${seconds.toFixed(1)} s, ${Math.round(events / seconds)} events/s`,);
    }
  } finally {
    await resources.cleanup();
  }
}

await main();
