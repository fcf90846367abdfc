import { jetstreamManager, type ConsumerInfo } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { loadCommandApiConfig, loadProjectorConfig } from '@app/config';
import { createPool, withClient } from '@app/database';
import { EventStore, readPartitionCount } from '@app/event-store';
import { batchMessageId, ensurePaymentsStream, NatsConnector, PAYMENTS_STREAM, PublicationRelay } from '@app/messaging';
import { PROJECTION_NAME } from '@app/merchant-metrics';
import { projectionCatalog } from '@app/projection-catalog';
import { readCheckpoints, type PaymentEventJson } from '@app/projections';
import { databaseUrl, eventually, NatsServerProcess, testDatabase, type TestDatabase } from '@app/testing';
import { asStoredTotals, expectedTotals, generateEvents, readModelTotals } from '../../../libs/merchant-metrics/src/testing/index.js';
import { readPaymentsStream } from '../../../libs/messaging/src/testing/read-stream.js';
import { newEventOf } from '../../../libs/projections/src/testing/new-events.js';
import { ProjectorSet } from './projector-set.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const window = { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-11-20T00:00:00Z') };
// What a new installation's projector builds (every projection at its default version).
const METRICS = { schema: 'rm_merchant_metrics_v3', version: 3 };
const PAYMENTS = { projection: 'merchant-payments', schema: 'rm_merchant_payments_v1', version: 1 };

/** A primary as the command API uses it: its event store, and the relay publishing what it commits. */
interface Primary {
  pool: pg.Pool;
  store: EventStore;
  close(): Promise<void>;
}

async function openPrimary(database: TestDatabase, natsUrl: string): Promise<Primary> {
  const pool = createPool({ connectionString: database.url, max: 6 });
  const store = new EventStore(pool, await readPartitionCount(pool));
  const connector = new NatsConnector(natsUrl, 'reused-positions', quiet);
  // The command API's own settings and wiring (infrastructure.module.ts), so that batch boundaries and Msg-Ids are the relay's.
  const { publishBatchSize } = loadCommandApiConfig({ DATABASE_URL: database.url, NATS_URL: natsUrl });
  const relay = new PublicationRelay(pool, connector, {
    partitions: store.partitions, batchSize: publishBatchSize, roundSize: publishBatchSize * 10, pollIntervalMs: 250, publishTimeoutMs: 5000,
  }, quiet);
  store.onCommitted((runs) => relay.committed(runs));
  connector.start();
  relay.start();
  return {
    pool,
    store,
    close: async () => {
      await relay.stop();
      await connector.close();
      await pool.end();
    },
  };
}

function projectorOn(database: TestDatabase, pool: pg.Pool, natsUrl: string): ProjectorSet {
  const config = loadProjectorConfig({ DATABASE_URL: database.url, NATS_URL: natsUrl, PROJECTOR_LEASE_SECONDS: '2' });
  return new ProjectorSet(pool, config, projectionCatalog, quiet);
}

/**
 * The standby at the moment the primary fails, in asynchronous mode: a copy
 * of everything the primary had committed up to then (the read models and
 * checkpoints too: they are in the same database), and nothing after.
 */
async function standbyOf(primary: TestDatabase): Promise<TestDatabase> {
  const admin = inject('postgresAdminUrl');
  const name = `${primary.name}_standby`;
  // The template must have no sessions; a pool's just ended ones may take a moment to go.
  await eventually(() => withClient(admin, (c) => c.query(`create database ${name} template ${primary.name}`)), 10_000, 100);
  return {
    name,
    url: databaseUrl(admin, name),
    drop: () => withClient(admin, (c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

/** `events` with payment ids of their own (`tag-p-N`), so that payments of different sets never merge; `merchantOf(i)` reassigns merchants. */
function relabel(events: PaymentEventJson[], tag: string, merchantOf: (i: number) => string = (i) => events[i]!.merchantId): PaymentEventJson[] {
  return events.map((e, i) => ({
    ...e,
    merchantId: merchantOf(i),
    ...(e.paymentCompleted && { paymentCompleted: { ...e.paymentCompleted, paymentId: `${tag}-${e.paymentCompleted.paymentId}` } }),
    ...(e.paymentFailed && { paymentFailed: { ...e.paymentFailed, paymentId: `${tag}-${e.paymentFailed.paymentId}` } }),
    ...(e.paymentRefunded && { paymentRefunded: { ...e.paymentRefunded, paymentId: `${tag}-${e.paymentRefunded.paymentId}` } }),
  }));
}

/** Every payment row of the merchants, as `merchant/payment`: generated ids are unique per event, so one row per event. */
async function paymentKeys(pool: pg.Pool, prefix: string): Promise<string[]> {
  const { rows } = await pool.query<{ key: string }>(
    `select merchant_id || '/' || payment_id as key from ${PAYMENTS.schema}.payments where starts_with(merchant_id, $1) order by 1`, [prefix]);
  return rows.map((r) => r.key);
}

/** The id of an event as a message carries it. */
const eventIdIn = (e: { event: Record<string, unknown> }) => e.event.eventId as string;
const paymentIdOf = (e: PaymentEventJson) => (e.paymentCompleted ?? e.paymentFailed ?? e.paymentRefunded)!.paymentId;
const expectedKeys = (events: PaymentEventJson[]) => events.map((e) => `${e.merchantId}/${paymentIdOf(e)}`).sort();

async function unpublished(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `select coalesce(sum(h.head - p.published), 0) as n from event_store.partition_heads h join event_store.publication_heads p using (partition)`);
  return Number(rows[0]!.n);
}

async function heads(pool: pg.Pool): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ partition: number; head: string }>(`select partition, head from event_store.partition_heads order by partition`);
  return new Map(rows.map((r) => [Number(r.partition), Number(r.head)]));
}

/** Each projection's checkpoints, partition by partition. */
async function checkpoints(pool: pg.Pool): Promise<Record<string, Map<number, number>>> {
  const of = async (projection: string, version: number) =>
    new Map((await readCheckpoints(pool, projection, version)).map((c) => [c.partition, c.position]));
  return { [PROJECTION_NAME]: await of(PROJECTION_NAME, METRICS.version), [PAYMENTS.projection]: await of(PAYMENTS.projection, PAYMENTS.version) };
}

/** Where the store holds `events`, as `partition:position:eventId`, sorted. */
async function placesOf(pool: pg.Pool, events: PaymentEventJson[]): Promise<string[]> {
  const { rows } = await pool.query<{ place: string }>(
    `select partition || ':' || position || ':' || event_id as place from event_store.events where event_id = any($1::uuid[]) order by 1`,
    [events.map((e) => e.eventId)]);
  return rows.map((r) => r.place);
}

/** The stream's last sequence number and its consumers. */
async function jetstreamState(natsUrl: string): Promise<{ lastSeq: number; consumers: ConsumerInfo[] }> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    return { lastSeq: (await jsm.streams.info(PAYMENTS_STREAM)).state.last_seq, consumers: await jsm.consumers.list(PAYMENTS_STREAM).next() };
  } finally {
    await nc.close();
  }
}

const consumers = async (natsUrl: string) => (await jetstreamState(natsUrl)).consumers;
/** How many messages each consumer has been delivered (its consumer sequence: filtered-out messages do not count). */
const deliveries = (list: ConsumerInfo[]) => new Map(list.map((c) => [c.name, c.delivered.consumer_seq]));
const allAcknowledged = (list: ConsumerInfo[]) => list.every((c) => c.num_pending === 0 && c.num_ack_pending === 0);

describe('projector after a failover that lost the newest events: the stream holds A at positions the store gives to B', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  /**
   * The old primary stores base, then A; the standby (the new primary) has
   * only base. JetStream holds A's messages, as the old primary's relay
   * published them. The new primary stores B (other events, the same
   * merchants in the same order, so the same positions and batch boundaries)
   * and its relay republishes them with A's Msg-Ids, which JetStream drops
   * within its duplicate window. The projector on the new primary must count
   * base and B, and nothing of A.
   */
  async function failover(options: { seed: number; prefix: string; projectorAppliedA: boolean }) {
    const nats = await NatsServerProcess.start();
    cleanups.push(() => nats.dispose());
    const oldDatabase = await testDatabase();
    cleanups.push(() => oldDatabase.drop());
    const base = relabel(generateEvents({ seed: options.seed, count: 300, merchants: 6, merchantPrefix: options.prefix, ...window }), 'base');
    const a = relabel(generateEvents({ seed: options.seed + 1, count: 60, merchants: 6, merchantPrefix: options.prefix, ...window }), 'a');
    const b = relabel(generateEvents({ seed: options.seed + 2, count: 60, merchants: 6, merchantPrefix: options.prefix, ...window }), 'b', (i) => a[i]!.merchantId);
    // Otherwise the read model could not tell A from B.
    expect(asStoredTotals(expectedTotals([...base, ...a]))).not.toEqual(asStoredTotals(expectedTotals([...base, ...b])));

    // Before the failover: base stored, published and projected on the old primary; every consumer in place.
    let old = await openPrimary(oldDatabase, nats.url);
    let projector = projectorOn(oldDatabase, old.pool, nats.url);
    // Stopped and closed on the way in the normal course; these are for a test failing half-way.
    cleanups.push(() => old.close(), () => projector.stop());
    await projector.start();
    await old.store.append(base.map(newEventOf));
    await eventually(async () => expect(await readModelTotals(old.pool, METRICS.schema, options.prefix)).toEqual(asStoredTotals(expectedTotals(base))), 20_000);
    await eventually(async () => expect(await paymentKeys(old.pool, options.prefix)).toEqual(expectedKeys(base)), 20_000);
    await eventually(async () => expect(await unpublished(old.pool)).toBe(0));
    const partitions = await readPartitionCount(old.pool);
    await eventually(async () => expect((await consumers(nats.url)).length).toBe(2 * partitions), 20_000);
    await eventually(async () => expect(allAcknowledged(await consumers(nats.url))).toBe(true), 20_000);
    const baseHeads = await heads(old.pool);
    const deliveredBefore = deliveries(await consumers(nats.url));

    // The standby's copy is taken here: it will never receive A.
    await projector.stop();
    await old.close();
    const newDatabase = await standbyOf(oldDatabase);
    cleanups.push(() => newDatabase.drop());

    // The old primary stores A and publishes it; its projector applies A and acknowledges A's messages, or is not running.
    old = await openPrimary(oldDatabase, nats.url);
    projector = projectorOn(oldDatabase, old.pool, nats.url);
    if (options.projectorAppliedA) await projector.start();
    await old.store.append(a.map(newEventOf));
    await eventually(async () => expect(await unpublished(old.pool)).toBe(0));
    const aPlaces = await placesOf(old.pool, a);
    const aPartitions = new Set(aPlaces.map((place) => Number(place.split(':')[0])));
    if (options.projectorAppliedA) {
      await eventually(async () => expect(await readModelTotals(old.pool, METRICS.schema, options.prefix)).toEqual(asStoredTotals(expectedTotals([...base, ...a]))), 20_000);
      await eventually(async () => expect(allAcknowledged(await consumers(nats.url))).toBe(true), 20_000);
      await projector.stop();
    } else {
      const pending = (await consumers(nats.url)).filter((c) => c.num_pending > 0).map((c) => c.config.filter_subject).sort();
      expect(pending).toEqual([...aPartitions].flatMap((p) => [`payments.events.${p}`, `payments.events.${p}`]).sort());
    }
    await old.close();

    // What JetStream holds of A: the old relay's messages, right after base in each partition A touched, under the relay's Msg-Ids.
    const stream = await readPaymentsStream(nats.url);
    const aIds = new Set(a.map((e) => e.eventId));
    const aMessages = stream.filter((m) => m.events.some((e) => aIds.has(eventIdIn(e))));
    expect(aMessages.flatMap((m) => m.events.map((e) => `${m.partition}:${e.position}:${eventIdIn(e)}`)).sort()).toEqual(aPlaces);
    for (const m of aMessages) {
      expect(m.fromPosition).toBe(baseHeads.get(m.partition)! + 1);
      expect(m.msgId).toBe(batchMessageId(m.partition, m.fromPosition, m.toPosition, m.events.at(-1)!.recordedAt));
    }

    // The failover: the standby is the primary now, with its relay and a projector of its own.
    const primary = await openPrimary(newDatabase, nats.url);
    cleanups.push(() => primary.close());
    const newProjector = projectorOn(newDatabase, primary.pool, nats.url);
    cleanups.push(() => newProjector.stop());
    await newProjector.start();
    expect(await heads(primary.pool)).toEqual(baseHeads);
    await eventually(async () => expect(allAcknowledged(await consumers(nats.url))).toBe(true), 20_000);
    const { consumers: settled } = await jetstreamState(nats.url);
    // Every consumer of A's partitions was delivered A's message once, by the old primary's projector or by this one; the others nothing.
    const deliveredA = new Map(settled.map((c) => [c.name, c.delivered.consumer_seq - deliveredBefore.get(c.name)!]));
    expect(deliveredA).toEqual(new Map(settled.map((c) => [c.name, aPartitions.has(Number(c.config.filter_subject!.split('.').at(-1))) ? 1 : 0])));
    // And this projector applied nothing of it: the store ends before A's positions.
    const baseCheckpoints = { [PROJECTION_NAME]: baseHeads, [PAYMENTS.projection]: baseHeads };
    expect(await checkpoints(primary.pool)).toEqual(baseCheckpoints);
    expect(await readModelTotals(primary.pool, METRICS.schema, options.prefix)).toEqual(asStoredTotals(expectedTotals(base)));
    expect(await paymentKeys(primary.pool, options.prefix)).toEqual(expectedKeys(base));

    // The new primary stores B at A's positions; its relay publishes B over A's ranges, under Msg-Ids of its own
    // (B's last events were recorded after A's), and JetStream takes them.
    await primary.store.append(b.map(newEventOf));
    await eventually(async () => expect(await unpublished(primary.pool)).toBe(0));
    const positionOnly = (place: string) => place.split(':').slice(0, 2).join(':');
    const bPlaces = await placesOf(primary.pool, b);
    expect(bPlaces.map(positionOnly).sort()).toEqual(aPlaces.map(positionOnly).sort());
    expect(await placesOf(primary.pool, a)).toEqual([]);
    const after = await readPaymentsStream(nats.url);
    const bIds = new Set(b.map((e) => e.eventId));
    const bMessages = after.filter((m) => m.events.some((e) => bIds.has(eventIdIn(e))));
    expect(bMessages.flatMap((m) => m.events.map((e) => `${m.partition}:${e.position}:${eventIdIn(e)}`)).sort()).toEqual(bPlaces);
    const range = (m: { partition: number; fromPosition: number; toPosition: number }) => `${m.partition}:${m.fromPosition}-${m.toPosition}`;
    expect(bMessages.map(range).sort()).toEqual(aMessages.map(range).sort());
    const aMsgIds = new Set(aMessages.map((m) => m.msgId));
    for (const m of bMessages) {
      expect(m.msgId).toBe(batchMessageId(m.partition, m.fromPosition, m.toPosition, m.events.at(-1)!.recordedAt));
      expect(aMsgIds.has(m.msgId)).toBe(false);
    }
    // A's messages stay in the stream beside them.
    expect(after.length).toBe(stream.length + bMessages.length);
    expect(after.filter((m) => m.events.some((e) => aIds.has(eventIdIn(e)))).map((m) => m.msgId).sort()).toEqual([...aMsgIds].sort());

    // The projector reaches B and counts nothing of A; each consumer of A's partitions was delivered B's messages too.
    const expectedHeads = await heads(primary.pool);
    await eventually(async () => expect(await checkpoints(primary.pool)).toEqual({ [PROJECTION_NAME]: expectedHeads, [PAYMENTS.projection]: expectedHeads }), 20_000);
    expect(await readModelTotals(primary.pool, METRICS.schema, options.prefix)).toEqual(asStoredTotals(expectedTotals([...base, ...b])));
    expect(await paymentKeys(primary.pool, options.prefix)).toEqual(expectedKeys([...base, ...b]));
    const bPerPartition = (p: number) => bMessages.filter((m) => m.partition === p).length;
    await eventually(async () => expect(allAcknowledged(await consumers(nats.url))).toBe(true), 20_000);
    expect(deliveries(await consumers(nats.url))).toEqual(new Map(settled.map((c) =>
      [c.name, c.delivered.consumer_seq + bPerPartition(Number(c.config.filter_subject!.split('.').at(-1)))])));
    return { partitions: aMessages.length, positions: aPlaces.length };
  }

  it('counts B and not A when the old primary had applied A and acknowledged its messages', async () => {
    const r = await failover({ seed: 81, prefix: 'ra-', projectorAppliedA: true });
    console.log(`A applied on the old primary: ${r.positions} positions of ${r.partitions} partitions reused by B, published beside A under ids of their own`);
  });

  it('counts B and not A when A\'s messages were still pending and reach the new primary\'s projector', async () => {
    const r = await failover({ seed: 91, prefix: 'rb-', projectorAppliedA: false });
    console.log(`A pending at the failover: ${r.positions} positions of ${r.partitions} partitions reused by B, published beside A under ids of their own`);
  });

  it('reaches stored events that no message announces (a relay that has not published them), from the store\'s head', async () => {
    const nats = await NatsServerProcess.start();
    cleanups.push(() => nats.dispose());
    const database = await testDatabase();
    cleanups.push(() => database.drop());
    const pool = createPool({ connectionString: database.url, max: 6 });
    cleanups.push(() => pool.end());
    // The stream as the command API makes it, and no relay.
    const nc = await connect({ servers: nats.url });
    await ensurePaymentsStream(await jetstreamManager(nc));
    await nc.close();
    const projector = projectorOn(database, pool, nats.url);
    cleanups.push(() => projector.stop());
    await projector.start();
    const events = relabel(generateEvents({ seed: 71, count: 200, merchants: 6, merchantPrefix: 'rc-', ...window }), 'c');
    // The store alone: no relay runs, so the stream never hears of these.
    await new EventStore(pool, await readPartitionCount(pool)).append(events.map(newEventOf));
    const stored = await heads(pool);
    const storedAt = performance.now();
    await eventually(async () => expect(await checkpoints(pool)).toEqual({ [PROJECTION_NAME]: stored, [PAYMENTS.projection]: stored }), 20_000);
    const reachedMs = performance.now() - storedAt;
    expect(await readModelTotals(pool, METRICS.schema, 'rc-')).toEqual(asStoredTotals(expectedTotals(events)));
    expect(await paymentKeys(pool, 'rc-')).toEqual(expectedKeys(events));
    expect((await jetstreamState(nats.url)).lastSeq).toBe(0);
    console.log(`200 events no message announced, projected ${reachedMs.toFixed(0)} ms after they were stored`);
  });
});
