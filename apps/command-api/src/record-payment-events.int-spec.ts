import { randomUUID } from 'node:crypto';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Code, ConnectError } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaymentEventSchema, PaymentMethod } from '@app/contracts';
import { positionsByPartition, readPaymentsStream } from '../../../libs/messaging/src/testing/read-stream.js';
import { databaseUrl, eventually } from '@app/testing';
import { createProducerApp, revokeProducerApp } from '@app/access';
import { createKysely } from '@app/database';
import pg from 'pg';
import { AdminListener } from './admin/admin-listener.js';
import { PG_POOL } from './infrastructure/tokens.js';
import { startCommandApiHarness, type CommandApiHarness } from './testing/command-api-harness.js';
import { completedEvent } from './testing/payment-events.js';
import { RECORD_PAYMENT_EVENTS_PATH } from './payments/commands/record-payment-events/record-payment-events.connect.js';

const PATH = '/payments.v1.PaymentEventService/RecordPaymentEvents';

describe('RecordPaymentEvents over Connect', () => {
  let h: CommandApiHarness;

  beforeAll(async () => {
    h = await startCommandApiHarness({ OCCURRED_AT_MAX_SKEW_SECONDS: '300', MAX_REQUEST_BYTES: '200000' });
  });
  afterAll(async () => {
    await h?.close();
  });

  const storedCount = async () => Number((await h.pool.query(`select count(*) n from event_store.events`)).rows[0].n);
  /** A null header value leaves that header out. */
  const post = (body: string | Buffer, headers: Record<string, string | null> = {}) => {
    const all: Record<string, string | null> = { 'content-type': 'application/json', authorization: `Bearer ${h.key}`, ...headers };
    return fetch(`${h.url}${PATH}`, {
      method: 'POST',
      headers: Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== null)),
      body,
    });
  };

  /** Sends a request that must be refused, and checks that nothing was stored and the server still serves. */
  async function expectRejected(body: string | Buffer, headers: Record<string, string | null>, status: number, code: string, message: RegExp | string) {
    const before = await storedCount();
    const res = await post(body, headers);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const error = (await res.json()) as { code: string; message: string };
    expect(error.code).toBe(code);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
    expect(await storedCount()).toBe(before);
    const ok = await h.client().recordPaymentEvents({ events: [] }).catch((e: ConnectError) => e.code);
    expect(ok).toBe(Code.InvalidArgument);
    return res;
  }

  describe('with the official Connect client', () => {
    it('stores a JSON batch and answers duplicates on resubmission', async () => {
      const client = h.client();
      const events = [completedEvent(), completedEvent({ merchantId: 'm-2002' })];
      const request = { events: events.map(toProtoInit) };
      expect(await client.recordPaymentEvents(request)).toMatchObject({ accepted: 2, duplicates: 0 });
      expect(await client.recordPaymentEvents(request)).toMatchObject({ accepted: 0, duplicates: 2 });
      const { rows } = await h.pool.query(
        `select event_id, merchant_id, event_type, occurred_at, payload from event_store.events where event_id = any($1::uuid[]) order by merchant_id`,
        [events.map((e) => e.eventId)],
      );
      expect(rows.map((r) => [r.event_id, r.merchant_id, r.event_type, r.occurred_at.toISOString()])).toEqual([
        [events[0].eventId, 'm-1001', 'payment_completed', '2026-11-20T03:15:00.000Z'],
        [events[1].eventId, 'm-2002', 'payment_completed', '2026-11-20T03:15:00.000Z'],
      ]);
      expect(rows[0].payload.paymentCompleted.amount).toEqual({ currency: 'JPY', minorUnits: '1200' });
    });

    it('stores a binary (application/proto) batch, identical in meaning to JSON', async () => {
      const client = h.client({ binary: true });
      const eventId = randomUUID();
      const message = create(PaymentEventSchema, {
        eventId,
        merchantId: 'm-bin',
        occurredAt: timestampFromDate(new Date('2026-11-20T03:15:00Z')),
        kind: {
          case: 'paymentRefunded',
          value: { paymentId: 'p-1', refundId: 'r-1', storeId: 's-1', method: PaymentMethod.QR, amount: { currency: 'USD', minorUnits: 250n } },
        },
      });
      expect(await client.recordPaymentEvents({ events: [message] })).toMatchObject({ accepted: 1, duplicates: 0 });
      // The same event sent again as JSON is recognised as the same event.
      const json = {
        eventId,
        merchantId: 'm-bin',
        occurredAt: '2026-11-20T12:15:00+09:00',
        paymentRefunded: { paymentId: 'p-1', refundId: 'r-1', storeId: 's-1', method: 'PAYMENT_METHOD_QR', amount: { currency: 'USD', minorUnits: 250 } },
      };
      const res = await post(JSON.stringify({ events: [json] }));
      expect(await res.json()).toEqual({ accepted: 0, duplicates: 1 });
      const { rows } = await h.pool.query(`select event_type, payload from event_store.events where event_id = $1`, [eventId]);
      expect(rows).toEqual([{ event_type: 'payment_refunded', payload: { ...json, occurredAt: '2026-11-20T03:15:00Z', paymentRefunded: { ...json.paymentRefunded, amount: { currency: 'USD', minorUnits: '250' } } } }]);
    });

    it('rejects a reused id with a different body as already_exists, naming the id', async () => {
      const event = completedEvent({}, '500');
      await h.client().recordPaymentEvents({ events: [toProtoInit(event)] });
      const changed = { ...event, paymentCompleted: { ...(event.paymentCompleted as object), amount: { currency: 'JPY', minorUnits: '501' } } };
      const error = await h.client().recordPaymentEvents({ events: [toProtoInit(changed)] }).catch((e: ConnectError) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.AlreadyExists);
      expect((error as ConnectError).rawMessage).toBe(`event id ${event.eventId as string} already stored with a different body`);
    });

    it('refuses a missing or wrong key with unauthenticated and stores nothing', async () => {
      const before = await storedCount();
      for (const key of [null, 'pk_wrong', `pk_${'A'.repeat(43)}`]) {
        const error = await h.client({ key }).recordPaymentEvents({ events: [toProtoInit(completedEvent())] }).catch((e: ConnectError) => e);
        expect((error as ConnectError).code).toBe(Code.Unauthenticated);
      }
      expect(await storedCount()).toBe(before);
    });
  });

  describe('revocation', () => {
    it('refuses a revoked key within a second, although the process had it cached for 30 s', async () => {
      const db = createKysely(h.pool);
      const name = `to-revoke-${randomUUID().slice(0, 8)}`;
      const { key } = await createProducerApp(db, name);
      const client = h.client({ key });
      // Accepted, and so cached.
      expect((await client.recordPaymentEvents({ events: [toProtoInit(completedEvent())] })).accepted).toBe(1);
      expect(await revokeProducerApp(db, name)).toBe(true);
      const revokedAt = Date.now();
      await eventually(async () => {
        const error = await client.recordPaymentEvents({ events: [toProtoInit(completedEvent())] }).catch((e: ConnectError) => e);
        expect((error as ConnectError).code).toBe(Code.Unauthenticated);
      }, 5000, 20);
      expect(Date.now() - revokedAt).toBeLessThan(1000);
      // The harness's own key still works: only the revoked app's keys left the cache.
      expect((await h.client().recordPaymentEvents({ events: [toProtoInit(completedEvent())] })).accepted).toBe(1);
    });
  });

  describe('publication', () => {
    it('publishes what it stores on JetStream', async () => {
      await h.client().recordPaymentEvents({ events: Array.from({ length: 50 }, (_, i) => toProtoInit(completedEvent({ merchantId: `m-pub-${i % 7}` }))) });
      const total = await storedCount();
      await eventually(async () => {
        const positions = positionsByPartition(await readPaymentsStream(h.nats.url));
        expect([...positions.values()].reduce((n, list) => n + list.length, 0)).toBe(total);
      });
    });
  });

  describe('validation: a request with any invalid event is rejected whole', () => {
    it('names each bad event by index and field', async () => {
      const good = completedEvent();
      const badId = completedEvent({ eventId: 'not-a-uuid' });
      const badAmount = completedEvent({}, '-5');
      await expectRejected(
        JSON.stringify({ events: [good, badId, badAmount] }),
        {},
        400,
        'invalid_argument',
        /^2 invalid fields: events\[1\]\.eventId: .*; events\[2\]\.paymentCompleted\.amount\.minorUnits: .*$/,
      );
      expect(Number((await h.pool.query(`select count(*) n from event_store.events where event_id = $1`, [good.eventId])).rows[0].n)).toBe(0);
    });

    it.each([
      ['a non-UUID id', { eventId: '1234' }, /events\[0\]\.eventId/],
      ['a future occurredAt beyond the skew', { occurredAt: new Date(Date.now() + 3_600_000).toISOString() }, /events\[0\]\.occurredAt: is in the future by more than the allowed clock skew of 5 min/],
      ['an unknown field', { colour: 'red' }, /events\[0\]\.colour: unknown field "colour"/],
      ['a non-RFC 3339 occurredAt', { occurredAt: '20/11/2026' }, /events\[0\]\.occurredAt/],
    ])('rejects %s', async (_name, override, message) => {
      await expectRejected(JSON.stringify({ events: [completedEvent(override)] }), {}, 400, 'invalid_argument', message);
    });

    it.each([
      ['a negative amount', '-1200'],
      ['a zero amount', '0'],
      ['a non-integer amount', '12.5'],
    ])('rejects %s', async (_name, amount) => {
      await expectRejected(JSON.stringify({ events: [completedEvent({}, amount)] }), {}, 400, 'invalid_argument', /events\[0\]\.paymentCompleted\.amount\.minorUnits/);
    });

    it('rejects an unknown currency', async () => {
      const event = completedEvent();
      (event.paymentCompleted as { amount: unknown }).amount = { currency: 'ABC', minorUnits: '1' };
      await expectRejected(JSON.stringify({ events: [event] }), {}, 400, 'invalid_argument', /events\[0\]\.paymentCompleted\.amount\.currency/);
    });

    it('rejects an empty batch and one over 1000 events', async () => {
      await expectRejected(JSON.stringify({ events: [] }), {}, 400, 'invalid_argument', /events: must contain 1 to 1000 events/);
      const many = Array.from({ length: 1001 }, () => ({ eventId: randomUUID() }));
      await expectRejected(JSON.stringify({ events: many }), {}, 400, 'invalid_argument', /events: must contain 1 to 1000 events.*1001/);
    });

    it('answers a body made of unknown fields with an error far smaller than the body', async () => {
      // 10 events with 1,800 short unknown keys each, under this harness's 200 kB bound. Unbounded, every key would be
      // echoed with its path: an answer larger than the body.
      const events = Array.from({ length: 10 }, () => {
        const event: Record<string, unknown> = completedEvent();
        for (let k = 0; k < 1800; k++) event[`u${k}`] = 0;
        return event;
      });
      const body = JSON.stringify({ events });
      expect(body.length).toBeGreaterThan(150_000);
      const before = await storedCount();
      const res = await post(body);
      expect(res.status).toBe(400);
      const error = (await res.json()) as { code: string; message: string };
      expect(error.code).toBe('invalid_argument');
      // Per event: 8 fields named, then one error for the other 1,792.
      const perEvent = (i: number) => [
        ...Array.from({ length: 8 }, (_, k) => `events[${i}].u${k}: unknown field "u${k}"`),
        `events[${i}]: has 1792 more unknown fields`,
      ];
      expect(error.message).toBe(`90 invalid fields: ${Array.from({ length: 10 }, (_, i) => perEvent(i)).flat().join('; ')}`);
      expect(error.message.length).toBeLessThan(body.length / 20);
      expect(await storedCount()).toBe(before);
    });

    it('rejects bad JSON', async () => {
      await expectRejected('{"events": [', {}, 400, 'invalid_argument', /^request body is not valid JSON/);
    });

    // Valid bodies: were the header ignored, the event would be stored.
    it('answers a wrong content type with HTTP 415, as the Connect protocol requires', async () => {
      const res = await expectRejected(JSON.stringify({ events: [completedEvent()] }), { 'content-type': 'text/plain' }, 415, 'invalid_argument',
        'unsupported Content-Type "text/plain": send application/json or application/proto');
      expect(res.headers.get('accept-post')).toBe('application/json, application/proto');
    });

    it('answers a missing content type with HTTP 415', async () => {
      // A byte body: fetch gives a string body a text/plain Content-Type of its own.
      const res = await expectRejected(Buffer.from(JSON.stringify({ events: [completedEvent()] })), { 'content-type': null }, 415, 'invalid_argument',
        'missing Content-Type: send application/json or application/proto');
      expect(res.headers.get('accept-post')).toBe('application/json, application/proto');
    });

    it('answers an unsupported Content-Encoding with unimplemented, naming the supported encodings', async () => {
      const res = await expectRejected(JSON.stringify({ events: [completedEvent()] }), { 'content-encoding': 'br' }, 501, 'unimplemented',
        'unsupported Content-Encoding "br": use gzip or identity');
      expect(res.headers.get('accept-encoding')).toBe('gzip');
    });

    it('rejects an oversized body', async () => {
      const huge = JSON.stringify({ events: [completedEvent({ merchantId: 'm'.repeat(250_000) })] });
      await expectRejected(huge, {}, 429, 'resource_exhausted', /exceeds the limit of 200000 bytes/);
    });

    it('rejects a gzip bomb once it inflates past the limit', async () => {
      const bomb = gzipSync(Buffer.from(JSON.stringify({ events: [completedEvent({ merchantId: ' '.repeat(1_000_000) })] })));
      expect(bomb.length).toBeLessThan(200_000);
      await expectRejected(bomb, { 'content-encoding': 'gzip' }, 429, 'resource_exhausted', /exceeds the limit of 200000 bytes/);
    });

    it('accepts a gzip-compressed request', async () => {
      const res = await post(gzipSync(Buffer.from(JSON.stringify({ events: [completedEvent()] }))), { 'content-encoding': 'gzip' });
      expect(await res.json()).toEqual({ accepted: 1, duplicates: 0 });
    });
  });

  describe('operations', () => {
    it('answers liveness and readiness with a bare status, and serves /metrics on the admin port only', async () => {
      const live = await fetch(`${h.url}/health/live`);
      expect([live.status, await live.text()]).toEqual([200, '{"status":"ok"}']);
      const ready = await fetch(`${h.url}/health/ready`);
      expect([ready.status, await ready.text()]).toEqual([200, '{"status":"ok"}']);
      expect((await fetch(`${h.url}/metrics`)).status).toBe(404);

      const scrape = await fetch(`${h.adminUrl}/metrics`);
      expect(scrape.status).toBe(200);
      expect(scrape.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const metrics = await scrape.text();
      const accepted = Number(/^events_accepted_total (\d+)$/m.exec(metrics)?.[1]);
      expect(accepted).toBe(await storedCount());
      expect(metrics).toMatch(/^command_api_requests_total\{code="invalid_argument"\} \d+$/m);
      expect(metrics).toMatch(/^nats_connected 1$/m);
      expect(metrics).not.toContain(h.key);
      const details = await fetch(`${h.adminUrl}/health/details`);
      expect([details.status, await details.json()]).toEqual([200, { status: 'ready', database: 'ok', nats: 'connected' }]);
      expect(h.app.get(AdminListener).server!.address.address).toBe('127.0.0.1');
    });

    it('turns unready within a few seconds when the database refuses connections, and ready again once it accepts them', async () => {
      // From another database: PostgreSQL refuses to disallow connections to the one a session is in.
      const admin = new pg.Client({ connectionString: databaseUrl(h.database.url, 'postgres') });
      await admin.connect();
      const name = h.database.name;
      try {
        await admin.query(`alter database "${name}" allow_connections false`);
        await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = 'command-api'`, [name]);
        const since = Date.now();
        await eventually(async () => {
          const ready = await fetch(`${h.url}/health/ready`);
          expect([ready.status, await ready.text()]).toEqual([503, '{"status":"unavailable"}']);
        }, 10_000, 50);
        // One interval (1 s) and at most one timeout (2 s) after the refusal.
        expect(Date.now() - since).toBeLessThan(4000);
        await eventually(async () => {
          const details = await fetch(`${h.adminUrl}/health/details`);
          expect([details.status, await details.json()]).toEqual([503, {
            status: 'unavailable', database: 'unreachable', nats: 'connected', error: `database "${name}" is not currently accepting connections`,
          }]);
        }, 10_000, 50);
      } finally {
        await admin.query(`alter database "${name}" allow_connections true`);
        await admin.end();
      }
      await eventually(async () => {
        const ready = await fetch(`${h.url}/health/ready`);
        expect([ready.status, await ready.text()]).toEqual([200, '{"status":"ok"}']);
      }, 10_000, 50);
    });
  });
});

describe('readiness without a database round trip per call', () => {
  let h: CommandApiHarness;
  beforeAll(async () => {
    // One check at start and none for a minute, so any query during the test is one a call made; HOST
    // on every interface, so the admin listener's loopback address is its own default, not HOST's.
    h = await startCommandApiHarness({ READINESS_INTERVAL_MS: '60000', HOST: '0.0.0.0' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers 50 readiness and 50 liveness calls without taking a connection from the pool', async () => {
    const pool = h.app.get<symbol, pg.Pool>(PG_POOL);
    let acquired = 0;
    const count = () => acquired++;
    pool.on('acquire', count);
    try {
      for (let i = 0; i < 50; i++) {
        const ready = await fetch(`${h.url}/health/ready`);
        expect([ready.status, await ready.text()]).toEqual([200, '{"status":"ok"}']);
        const live = await fetch(`${h.url}/health/live`);
        expect([live.status, await live.text()]).toEqual([200, '{"status":"ok"}']);
      }
      expect(acquired).toBe(0);
      // The count does see the pool's work: an append takes connections from it.
      expect(await h.client().recordPaymentEvents({ events: [toProtoInit(completedEvent())] })).toMatchObject({ accepted: 1 });
      expect(acquired).toBeGreaterThan(0);
    } finally {
      pool.off('acquire', count);
    }
  });

  it('binds the admin listener to 127.0.0.1 while HOST is 0.0.0.0', () => {
    expect((h.app.getHttpServer().address() as AddressInfo).address).toBe('0.0.0.0');
    expect(h.app.get(AdminListener).server!.address.address).toBe('127.0.0.1');
  });
});

describe('overload', () => {
  let h: CommandApiHarness;
  beforeAll(async () => {
    h = await startCommandApiHarness({ MAX_IN_FLIGHT_REQUESTS: '2' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers resource_exhausted beyond the in-flight bound and stores exactly what it accepted', async () => {
    const client = h.client();
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        client
          .recordPaymentEvents({ events: Array.from({ length: 200 }, () => toProtoInit(completedEvent({ merchantId: `m-${randomUUID().slice(0, 4)}` }))) })
          .then((r) => ({ accepted: r.accepted }))
          .catch((e: ConnectError) => ({ code: e.code })),
      ),
    );
    const rejected = results.filter((r) => 'code' in r);
    const accepted = results.filter((r) => 'accepted' in r) as Array<{ accepted: number }>;
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected.every((r) => (r as { code: Code }).code === Code.ResourceExhausted)).toBe(true);
    expect(accepted.length).toBeGreaterThan(0);
    const stored = Number((await h.pool.query(`select count(*) n from event_store.events`)).rows[0].n);
    expect(stored).toBe(accepted.reduce((n, r) => n + r.accepted, 0));
  });
});

describe('slow clients', () => {
  let h: CommandApiHarness;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    h = await startCommandApiHarness({ MAX_IN_FLIGHT_REQUESTS: '4', COMMAND_API_BODY_TIMEOUT_SECONDS: '2' });
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await h?.close();
  });

  /** Opens `n` requests that send their headers and 10 bytes of a 5,000-byte body, then nothing more. */
  async function stall(n: number, key: string): Promise<Array<Promise<string>>> {
    const { hostname, port } = new URL(h.url);
    // Each resolves once its headers are sent, with (wrapped: a promise would be adopted) what the server answered when it closed.
    const opened = await Promise.all(Array.from({ length: n }, () => new Promise<{ answer: Promise<string> }>((resolve) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.write(`POST ${RECORD_PAYMENT_EVENTS_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnect-Protocol-Version: 1\r\n` +
          `Authorization: Bearer ${key}\r\nContent-Length: 5000\r\n\r\n{"events":`);
        resolve({ answer });
      });
      sockets.push(socket);
      let received = '';
      socket.on('data', (d) => { received += d.toString('utf8'); });
      socket.on('error', () => undefined);
      const answer = new Promise<string>((done) => socket.on('close', () => done(received)));
    })));
    return opened.map((o) => o.answer);
  }

  it('cuts a body that has not arrived within COMMAND_API_BODY_TIMEOUT_SECONDS, so producers with a key cannot hold every slot', async () => {
    const answers = await stall(12, h.key); // three times the in-flight bound
    const began = Date.now();
    let served = 0;
    while (Date.now() - began < 8000 && served === 0) {
      served = await h.client().recordPaymentEvents({ events: [toProtoInit(completedEvent())] }).then((r) => r.accepted, () => 0);
      if (served === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(served).toBe(1);
    // Within the deadline (2 s) and its check, not after the stalled clients give up (they never do).
    expect(Date.now() - began).toBeLessThan(5000);
    // The four admitted had their connections closed at the deadline; the others were refused at once (the bound was taken).
    const texts = await Promise.all(answers);
    expect(texts.filter((text) => text === '').length).toBe(4);
    for (const text of texts.filter((t) => t !== '')) expect(text).toMatch(/^HTTP\/1\.1 429 [^]*too many requests in flight/);
    for (const socket of sockets.splice(0)) socket.destroy();
  });

  it('refuses a request with an unknown key before it takes a slot, however many stall', async () => {
    await stall(40, `pk_${'B'.repeat(43)}`);
    const t0 = Date.now();
    expect((await h.client().recordPaymentEvents({ events: [toProtoInit(completedEvent())] })).accepted).toBe(1);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

/** JSON-shaped event → the protobuf-es init shape the Connect client takes. */
function toProtoInit(event: Record<string, unknown>) {
  const { eventId, merchantId, occurredAt, paymentCompleted } = event as {
    eventId: string; merchantId: string; occurredAt: string;
    paymentCompleted: { paymentId: string; customerId: string; storeId: string; method: string; amount: { currency: string; minorUnits: string } };
  };
  return {
    eventId,
    merchantId,
    occurredAt: timestampFromDate(new Date(occurredAt)),
    kind: {
      case: 'paymentCompleted' as const,
      value: {
        ...paymentCompleted,
        method: PaymentMethod[paymentCompleted.method.replace('PAYMENT_METHOD_', '') as keyof typeof PaymentMethod],
        amount: { currency: paymentCompleted.amount.currency, minorUnits: BigInt(paymentCompleted.amount.minorUnits) },
      },
    },
  };
}
