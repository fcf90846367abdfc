import { headers as natsHeaders } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  batchMessageId, encodeEventBatch, HEADER_FROM_POSITION, HEADER_PARTITION, HEADER_TO_POSITION, NatsConnector, PAYMENTS_STREAM,
} from '@app/messaging';
import { eventually, NatsServerProcess } from '@app/testing';
import { PartitionConsumer, type FetchedBatch } from './partition-consumer.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const PARTITION = 3;
const PER_MESSAGE = 100;
const MESSAGES = 60;
const BOUND = 1000;

/** A message as the relay writes it: `PER_MESSAGE` events from `from`, with the position headers. */
function message(from: number) {
  const rows = Array.from({ length: PER_MESSAGE }, (_, i) => ({
    position: from + i,
    recordedAt: '2026-11-21T05:40:00.123456Z',
    payloadJson: JSON.stringify({ eventId: `e-${from + i}`, merchantId: 'm-bound', occurredAt: '2026-11-20T03:15:00Z' }),
  }));
  const h = natsHeaders();
  h.set('Nats-Msg-Id', batchMessageId(PARTITION, from, from + PER_MESSAGE - 1, rows[rows.length - 1]!.recordedAt));
  h.set(HEADER_PARTITION, String(PARTITION));
  h.set(HEADER_FROM_POSITION, String(from));
  h.set(HEADER_TO_POSITION, String(from + PER_MESSAGE - 1));
  return { data: encodeEventBatch(PARTITION, rows), headers: h };
}

describe('PartitionConsumer', () => {
  let nats: NatsServerProcess;
  let connector: NatsConnector;

  beforeAll(async () => {
    nats = await NatsServerProcess.start();
    connector = new NatsConnector(nats.url, 'consumer-test', quiet);
    connector.start();
    await eventually(() => expect(connector.connected).toBe(true));
  });
  afterAll(async () => {
    await connector?.close();
    await nats?.dispose();
  });

  it('holds at most its bound of events, leaving the rest in JetStream until the worker takes what it holds', async () => {
    const held: number[] = [];
    const consumer = new PartitionConsumer(connector, 'bound-test', 1, PARTITION, 30_000, BOUND, {
      buffered: (_p, events) => held.push(events),
    });
    try {
      // The first take makes the durable consumer (it starts at new messages).
      expect(await consumer.take(BOUND, 64, 10)).toEqual([]);
      await eventually(async () => expect(await connector.manager!.consumers.info(PAYMENTS_STREAM, consumer.name)).toBeDefined());
      for (let m = 0; m < MESSAGES; m++) {
        const { data, headers } = message(1 + m * PER_MESSAGE);
        await connector.jetstream!.publish(`payments.events.${PARTITION}`, data, { headers });
      }
      // Nothing taken yet: the consumer fills its buffer to the bound and stops asking.
      await eventually(async () => {
        const info = await connector.manager!.consumers.info(PAYMENTS_STREAM, consumer.name);
        expect(info.num_pending + info.num_ack_pending).toBe(MESSAGES);
        expect(info.num_ack_pending).toBeGreaterThan(0);
        expect(info.num_ack_pending * PER_MESSAGE).toBeLessThanOrEqual(BOUND);
      });
      await new Promise((r) => setTimeout(r, 300));
      expect((await connector.manager!.consumers.info(PAYMENTS_STREAM, consumer.name)).num_ack_pending * PER_MESSAGE).toBeLessThanOrEqual(BOUND);

      // Taking makes room, and every message comes, in order, without ever holding more than the bound.
      const taken: FetchedBatch[] = [];
      await eventually(async () => {
        const batch = (await consumer.take(250, 64, 200)) ?? [];
        expect(batch.reduce((n, f) => n + f.toPosition - f.fromPosition + 1, 0)).toBeLessThanOrEqual(250);
        for (const f of batch) f.msg.ack();
        taken.push(...batch);
        expect(taken.length).toBe(MESSAGES);
      }, 20_000, 0);
      expect(taken.map((f) => f.fromPosition)).toEqual(Array.from({ length: MESSAGES }, (_, m) => 1 + m * PER_MESSAGE));
      expect(taken.every((f) => f.decoded === undefined)).toBe(true);
      expect(Math.max(...held)).toBeLessThanOrEqual(BOUND);
      expect(Math.max(...held)).toBeGreaterThan(0);
    } finally {
      await consumer.stop();
    }
  });
});
