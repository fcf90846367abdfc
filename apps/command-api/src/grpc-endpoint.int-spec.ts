import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { create, fromJson, toBinary } from '@bufbuild/protobuf';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducerApp } from '@app/access';
import { RecordPaymentEventsRequestSchema } from '@app/contracts';
import { createKysely } from '@app/database';
import { eventually } from '@app/testing';
import { InFlightLimiter } from './admission/in-flight-limiter.js';
import { GrpcListener } from './grpc/grpc-listener.js';
import { RECORD_PAYMENT_EVENTS_PATH } from './payments/commands/record-payment-events/record-payment-events.connect.js';
import { startCommandApiHarness, type CommandApiHarness } from './testing/command-api-harness.js';
import { grpc, paymentEventsGrpcClient, recordOverGrpc, type GrpcAnswer, type PaymentEventsGrpcClient } from './testing/grpc-client.js';
import { completedEvent } from './testing/payment-events.js';

type Event = Record<string, unknown>;

/** The Connect endpoint's answer to the same events, in the terms of a gRPC answer (its code as gRPC's number). */
async function recordOverConnect(url: string, events: Event[], key: string | null): Promise<GrpcAnswer> {
  const res = await fetch(`${url}${RECORD_PAYMENT_EVENTS_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    body: JSON.stringify({ events }),
  });
  const body = (await res.json()) as { accepted?: number; duplicates?: number; code?: string; message?: string };
  if (res.status === 200) return { response: { accepted: body.accepted ?? 0, duplicates: body.duplicates ?? 0 }, requestId: res.headers.get('x-request-id')! };
  return { error: { code: CONNECT_TO_GRPC[body.code!]!, details: body.message! } };
}

/** Written out here, not taken from the code under test. */
const CONNECT_TO_GRPC: Record<string, number> = {
  invalid_argument: 3, already_exists: 6, permission_denied: 7, resource_exhausted: 8, unavailable: 14, unauthenticated: 16,
};

/** Holds every append (each claims its events' ids in event_store.event_ids first) until release() is called. */
async function holdAppends(databaseUrl: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('begin');
  await client.query('lock table event_store.event_ids in exclusive mode');
  return {
    async release() {
      await client.query('rollback');
      await client.end();
    },
  };
}

const stored = async (h: CommandApiHarness, events: Event[]) =>
  (await h.pool.query(
    `select event_id, merchant_id, event_type, occurred_at, payload, producer_app_id, request_id
       from event_store.events where event_id = any($1::uuid[]) order by event_id`,
    [events.map((e) => e.eventId)],
  )).rows;
const storedCount = async (h: CommandApiHarness) => Number((await h.pool.query(`select count(*) n from event_store.events`)).rows[0].n);

describe('RecordPaymentEvents over gRPC (@grpc/grpc-js on the repository proto)', () => {
  let h: CommandApiHarness;
  let client: PaymentEventsGrpcClient;
  let harnessAppId: string;

  beforeAll(async () => {
    h = await startCommandApiHarness({ MAX_REQUEST_BYTES: '200000' });
    client = paymentEventsGrpcClient(h.grpcTarget!);
    harnessAppId = (await h.pool.query(`select app_id from access.producer_apps where name = 'test-producer'`)).rows[0].app_id;
  });
  afterAll(async () => {
    client?.close();
    await h?.close();
  });

  it('stores a batch exactly, with the producer app and the request id, and answers duplicates on resubmission', async () => {
    const events = [completedEvent(), completedEvent({ merchantId: 'm-2002' }, '501')];
    const first = await recordOverGrpc(client, events, { key: h.key, requestId: 'grpc-req-1' });
    expect(first).toEqual({ response: { accepted: 2, duplicates: 0 }, requestId: 'grpc-req-1' });
    const rows = await stored(h, events);
    const expected = events.map((e) => ({
      event_id: e.eventId,
      merchant_id: e.merchantId,
      event_type: 'payment_completed',
      occurred_at: new Date('2026-11-20T03:15:00Z'),
      payload: e,
      producer_app_id: harnessAppId,
      request_id: 'grpc-req-1',
    })).sort((a, b) => String(a.event_id).localeCompare(String(b.event_id)));
    expect(rows).toEqual(expected);

    const again = await recordOverGrpc(client, events, { key: h.key });
    expect(again.response).toEqual({ accepted: 0, duplicates: 2 });
    expect(again.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await stored(h, events)).toEqual(expected);
  });

  it('refuses a reused id with a different body as ALREADY_EXISTS (6), naming the id', async () => {
    const event = completedEvent({}, '500');
    expect((await recordOverGrpc(client, [event], { key: h.key })).response).toEqual({ accepted: 1, duplicates: 0 });
    const changed = { ...event, paymentCompleted: { ...(event.paymentCompleted as object), amount: { currency: 'JPY', minorUnits: '501' } } };
    expect(await recordOverGrpc(client, [changed], { key: h.key })).toEqual({
      error: { code: grpc.status.ALREADY_EXISTS, details: `event id ${event.eventId as string} already stored with a different body` },
    });
    expect((await stored(h, [event]))[0].payload.paymentCompleted.amount).toEqual({ currency: 'JPY', minorUnits: '500' });
  });

  it('refuses a batch with bad events as INVALID_ARGUMENT (3), naming each bad event by index and field, and stores none of it', async () => {
    const events = [completedEvent(), completedEvent({ eventId: 'not-a-uuid' }), completedEvent({}, '-5')];
    const before = await storedCount(h);
    expect(await recordOverGrpc(client, events, { key: h.key })).toEqual({
      error: {
        code: grpc.status.INVALID_ARGUMENT,
        details: '2 invalid fields: events[1].eventId: must be a UUID; events[2].paymentCompleted.amount.minorUnits: must be positive',
      },
    });
    expect(await storedCount(h)).toBe(before);
    expect(await recordOverGrpc(client, [], { key: h.key })).toEqual({
      error: { code: grpc.status.INVALID_ARGUMENT, details: '1 invalid field: events: must contain 1 to 1000 events' },
    });
  });

  it('cuts a status message longer than gRPC metadata allows after its last whole error, and says so', async () => {
    const events = Array.from({ length: 1000 }, (_, i) => completedEvent({ eventId: `bad-${i}` }));
    const answer = await recordOverGrpc(client, events, { key: h.key });
    expect(answer.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const details = answer.error!.details;
    const suffix = '; … (cut to 6144 bytes for gRPC metadata: send fewer events per request to see every error)';
    expect(details.endsWith(suffix)).toBe(true);
    // Whole errors, from the first on, as many as fit in 6,144 bytes with the suffix ("…" is 3 bytes, sent as 9).
    const items = Array.from({ length: 1000 }, (_, i) => `events[${i}].eventId: must be a UUID`);
    let kept = 0;
    // An error is kept when it and the "; " after it fit: suffix.length + 8 is the encoded suffix's length.
    while (`1000 invalid fields: ${items.slice(0, kept + 1).join('; ')}; `.length + suffix.length + 8 <= 6144) kept++;
    expect(details).toBe(`1000 invalid fields: ${items.slice(0, kept).join('; ')}${suffix}`);
    expect(kept).toBeGreaterThan(100);
  });

  it('refuses a missing or unknown key as UNAUTHENTICATED (16) and stores nothing', async () => {
    const before = await storedCount(h);
    expect(await recordOverGrpc(client, [completedEvent()], { key: null })).toEqual({
      error: { code: grpc.status.UNAUTHENTICATED, details: 'missing "Authorization: Bearer <producer key>" header' },
    });
    for (const key of ['pk_wrong', `pk_${'A'.repeat(43)}`]) {
      expect(await recordOverGrpc(client, [completedEvent()], { key })).toEqual({
        error: { code: grpc.status.UNAUTHENTICATED, details: 'invalid or revoked producer key' },
      });
    }
    expect(await storedCount(h)).toBe(before);
  });

  it('refuses an app restricted to merchants an event of another merchant as PERMISSION_DENIED (7), storing nothing', async () => {
    const name = `pos-${randomUUID().slice(0, 8)}`;
    const producer = await createProducerApp(createKysely(h.pool), name, { merchantIds: ['m-own-1'] });
    const mixed = [completedEvent({ merchantId: 'm-own-1' }), completedEvent({ merchantId: 'm-other' })];
    expect(await recordOverGrpc(client, mixed, { key: producer.key })).toEqual({
      error: {
        code: grpc.status.PERMISSION_DENIED,
        details: `producer app "${name}" may not submit events for merchant "m-other"; nothing was stored (an operator sets its merchants: ops apps restrict)`,
      },
    });
    expect(await stored(h, mixed)).toEqual([]);
    const own = [completedEvent({ merchantId: 'm-own-1' })];
    expect((await recordOverGrpc(client, own, { key: producer.key, requestId: 'own-grpc' })).response).toEqual({ accepted: 1, duplicates: 0 });
    expect((await stored(h, own)).map((r) => [r.producer_app_id, r.request_id])).toEqual([[producer.appId, 'own-grpc']]);
  });

  it('refuses a message over MAX_REQUEST_BYTES as RESOURCE_EXHAUSTED (8) from its length prefix, and a gzip bomb once it inflates past it', async () => {
    const huge = completedEvent({ merchantId: 'm'.repeat(250_000) });
    const size = toBinary(RecordPaymentEventsRequestSchema, fromJson(RecordPaymentEventsRequestSchema, { events: [huge] } as never)).length;
    expect(size).toBeGreaterThan(250_000);
    expect(await recordOverGrpc(client, [huge], { key: h.key })).toEqual({
      error: { code: grpc.status.RESOURCE_EXHAUSTED, details: `request message of ${size} bytes exceeds the limit of 200000 bytes` },
    });
    const gzipClient = paymentEventsGrpcClient(h.grpcTarget!, { channel: { 'grpc.default_compression_algorithm': 2 } });
    try {
      const bomb = completedEvent({ merchantId: ' '.repeat(1_000_000) });
      expect(await recordOverGrpc(gzipClient, [bomb], { key: h.key })).toEqual({
        error: { code: grpc.status.RESOURCE_EXHAUSTED, details: 'request message of 200001+ bytes exceeds the limit of 200000 bytes' },
      });
      // Compressed messages of the right size are accepted.
      expect((await recordOverGrpc(gzipClient, [completedEvent()], { key: h.key })).response).toEqual({ accepted: 1, duplicates: 0 });
    } finally {
      gzipClient.close();
    }
  });

  it('answers as the Connect endpoint does for the same input', async () => {
    const harnessKey = h.key;
    const restricted = await createProducerApp(createKysely(h.pool), `cmp-${randomUUID().slice(0, 8)}`, { merchantIds: ['m-own-1'] });
    const conflicting = completedEvent({}, '700');
    expect((await recordOverConnect(h.url, [conflicting], harnessKey)).response).toEqual({ accepted: 1, duplicates: 0 });
    const conflict = { ...conflicting, paymentCompleted: { ...(conflicting.paymentCompleted as object), amount: { currency: 'JPY', minorUnits: '701' } } };
    const cases: Array<[string, Event[], string | null]> = [
      ['bad events', [completedEvent(), completedEvent({ eventId: 'x' }), completedEvent({}, '-5'), completedEvent({ merchantId: 'bad merchant' })], harnessKey],
      ['a future occurredAt', [completedEvent({ occurredAt: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z') })], harnessKey],
      ['a duplicate id with another body in one batch', [conflicting, conflict], harnessKey],
      ['a conflict with a stored event', [conflict], harnessKey],
      ['no events', [], harnessKey],
      ['no key', [completedEvent()], null],
      ['an unknown key', [completedEvent()], 'pk_unknown'],
      ['another merchant of a restricted app', [completedEvent({ merchantId: 'm-other' })], restricted.key],
    ];
    for (const [name, events, key] of cases) {
      const overGrpc = await recordOverGrpc(client, events, { key });
      expect(overGrpc.error, name).toBeDefined();
      expect(overGrpc, name).toEqual(await recordOverConnect(h.url, events, key));
    }
    // Successes and duplicates: the same counts for batches of the same shape, then for each other's batch again.
    const [a, b] = [[completedEvent(), completedEvent({ merchantId: 'm-7' })], [completedEvent(), completedEvent({ merchantId: 'm-7' })]];
    const [connectA, grpcB] = [await recordOverConnect(h.url, a, harnessKey), await recordOverGrpc(client, b, { key: harnessKey })];
    expect([connectA.response, grpcB.response]).toEqual([{ accepted: 2, duplicates: 0 }, { accepted: 2, duplicates: 0 }]);
    const [connectB, grpcA] = [await recordOverConnect(h.url, b, harnessKey), await recordOverGrpc(client, a, { key: harnessKey })];
    expect([connectB.response, grpcA.response]).toEqual([{ accepted: 0, duplicates: 2 }, { accepted: 0, duplicates: 2 }]);
  });
});

describe('gRPC and Connect share one in-flight bound', () => {
  let h: CommandApiHarness;
  let client: PaymentEventsGrpcClient;
  beforeAll(async () => {
    h = await startCommandApiHarness({ MAX_IN_FLIGHT_REQUESTS: '2', COMMAND_API_BODY_TIMEOUT_SECONDS: '2' });
    client = paymentEventsGrpcClient(h.grpcTarget!);
  });
  afterAll(async () => {
    client?.close();
    await h?.close();
  });

  it('answers RESOURCE_EXHAUSTED (8) to every call beyond MAX_IN_FLIGHT_REQUESTS, on either port, and stores what it admitted', async () => {
    const limiter = h.app.get(InFlightLimiter);
    const hold = await holdAppends(h.database.url);
    const admitted = [completedEvent(), completedEvent()];
    const excess = Array.from({ length: 5 }, () => completedEvent());
    let pending: Array<Promise<GrpcAnswer>>;
    try {
      pending = [recordOverGrpc(client, [admitted[0]!], { key: h.key }), recordOverConnect(h.url, [admitted[1]!], h.key)];
      await eventually(() => expect(limiter.current).toBe(2));
      const refused = await Promise.all([
        ...excess.slice(0, 4).map((e) => recordOverGrpc(client, [e], { key: h.key })),
        recordOverConnect(h.url, [excess[4]!], h.key),
      ]);
      const overloaded = { error: { code: grpc.status.RESOURCE_EXHAUSTED, details: 'server overloaded: too many requests in flight; retry with backoff' } };
      expect(refused).toEqual([overloaded, overloaded, overloaded, overloaded, overloaded]);
    } finally {
      await hold.release();
    }
    const answers = await Promise.all(pending);
    expect(answers.map((a) => a.response)).toEqual([{ accepted: 1, duplicates: 0 }, { accepted: 1, duplicates: 0 }]);
    expect((await stored(h, [...admitted, ...excess])).length).toBe(2);
    expect(limiter.current).toBe(0);
  });

  it('cuts a call whose message has not arrived within COMMAND_API_BODY_TIMEOUT_SECONDS as DEADLINE_EXCEEDED (4), freeing its slot', async () => {
    const session = http2.connect(`http://${h.grpcTarget}`);
    try {
      const stalled = Array.from({ length: 2 }, () => {
        const stream = session.request({
          ':method': 'POST', ':path': RECORD_PAYMENT_EVENTS_PATH, 'content-type': 'application/grpc', te: 'trailers', authorization: `Bearer ${h.key}`,
        });
        stream.write(Buffer.from([0, 0, 0, 1, 0])); // a prefix announcing 256 bytes, then nothing
        return rawAnswer(stream);
      });
      await eventually(() => expect(h.app.get(InFlightLimiter).current).toBe(2));
      const began = Date.now();
      expect(await Promise.all(stalled)).toEqual([
        { status: 200, grpcStatus: '4', grpcMessage: 'request message not received within 2 s' },
        { status: 200, grpcStatus: '4', grpcMessage: 'request message not received within 2 s' },
      ]);
      expect(Date.now() - began).toBeLessThan(3000);
      expect((await recordOverGrpc(client, [completedEvent()], { key: h.key })).response).toEqual({ accepted: 1, duplicates: 0 });
    } finally {
      session.close();
    }
  });

  it('answers DEADLINE_EXCEEDED (4) when the call\'s grpc-timeout passes, and keeps the slot until the append ends', async () => {
    const hold = await holdAppends(h.database.url);
    const event = completedEvent();
    const session = http2.connect(`http://${h.grpcTarget}`);
    try {
      const stream = session.request({
        ':method': 'POST', ':path': RECORD_PAYMENT_EVENTS_PATH, 'content-type': 'application/grpc', te: 'trailers',
        authorization: `Bearer ${h.key}`, 'grpc-timeout': '300m',
      });
      stream.end(grpcFrame(event));
      expect(await rawAnswer(stream)).toEqual({ status: 200, grpcStatus: '4', grpcMessage: "deadline exceeded: the call's grpc-timeout of 300 ms passed" });
      expect(h.app.get(InFlightLimiter).current).toBe(1);
    } finally {
      await hold.release();
      session.close();
    }
    // The append was under way: it ends, and its event is stored (a retry is answered as a duplicate).
    await eventually(async () => expect((await stored(h, [event])).length).toBe(1));
    await eventually(() => expect(h.app.get(InFlightLimiter).current).toBe(0));
  });
});

describe('the gRPC protocol', () => {
  let h: CommandApiHarness;
  let session: http2.ClientHttp2Session;
  beforeAll(async () => {
    h = await startCommandApiHarness();
    session = http2.connect(`http://${h.grpcTarget}`);
  });
  afterAll(async () => {
    session?.close();
    await h?.close();
  });

  const request = (headers: http2.OutgoingHttpHeaders, body: Buffer) => {
    const stream = session.request({
      ':method': 'POST', ':path': RECORD_PAYMENT_EVENTS_PATH, 'content-type': 'application/grpc', te: 'trailers', authorization: `Bearer ${h.key}`, ...headers,
    });
    stream.end(body);
    return rawAnswer(stream);
  };

  it('answers the message in a length-prefixed frame and grpc-status 0 in trailers, and serves application/grpc+json too', async () => {
    // accepted = 1 (field 1, varint); duplicates = 0 is proto3's default, so not sent.
    expect(await request({}, grpcFrame(completedEvent()))).toEqual({
      status: 200, grpcStatus: '0', contentType: 'application/grpc+proto', message: Buffer.from([0, 0, 0, 0, 2, 0x08, 0x01]),
    });
    const json = await request({ 'content-type': 'application/grpc+json' }, jsonFrame({ events: [completedEvent()] }));
    expect(json).toEqual({ status: 200, grpcStatus: '0', contentType: 'application/grpc+json', message: jsonFrame({ accepted: 1, duplicates: 0 }) });
  });

  it('refuses what it does not serve with the status the protocol gives it', async () => {
    const event = completedEvent();
    expect(await request({ 'grpc-encoding': 'br' }, grpcFrame(event))).toEqual({
      status: 200, grpcStatus: '12', grpcMessage: 'unsupported grpc-encoding "br": use gzip or identity', acceptEncoding: 'gzip,identity',
    });
    expect(await request({ 'grpc-timeout': '5 seconds' }, grpcFrame(event))).toEqual({
      status: 200, grpcStatus: '3', grpcMessage: 'malformed grpc-timeout "5 seconds": expected 1 to 8 digits and a unit of H, M, S, m, u or n',
    });
    expect(await request({ ':path': '/payments.v1.PaymentEventService/DeletePaymentEvents' }, grpcFrame(event))).toEqual({
      status: 200, grpcStatus: '12', grpcMessage: `unknown method /payments.v1.PaymentEventService/DeletePaymentEvents: this server serves ${RECORD_PAYMENT_EVENTS_PATH}`,
    });
    expect(await request({ 'content-type': 'application/json' }, Buffer.from('{}'))).toEqual({ status: 415 });
    expect(await request({}, Buffer.concat([grpcFrame(event), grpcFrame(completedEvent())]))).toEqual({
      status: 200, grpcStatus: '3', grpcMessage: 'a unary call takes one request message: more data followed it',
    });
    expect(await request({}, Buffer.alloc(0))).toEqual({ status: 200, grpcStatus: '3', grpcMessage: 'missing request message: a unary call takes exactly one' });
    expect(await request({}, grpcFrame(event).subarray(0, 20))).toEqual({ status: 200, grpcStatus: '3', grpcMessage: expect.stringMatching(/^request message cut short: 20 of \d+ bytes received$/) });
    const gzipped = gzipSync(toBinary(RecordPaymentEventsRequestSchema, fromJson(RecordPaymentEventsRequestSchema, { events: [event] } as never)));
    const flagged = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), gzipped]);
    flagged.writeUInt32BE(gzipped.length, 1);
    expect(await request({}, flagged)).toEqual({ status: 200, grpcStatus: '3', grpcMessage: 'message marked compressed, but the call has no grpc-encoding' });
    expect(await request({ 'grpc-encoding': 'gzip' }, flagged)).toMatchObject({ status: 200, grpcStatus: '0' });
  });

  it('percent-encodes % and every byte outside printable ASCII in the status message', async () => {
    const answer = await request({ 'content-type': 'application/grpc+json' }, jsonFrame({ events: [{ ...completedEvent(), 'é%x': 1 }] }));
    expect(answer.grpcStatus).toBe('3');
    expect(answer.rawGrpcMessage).toBe('1 invalid field: events[0].%C3%A9%25x: unknown field "%C3%A9%25x"');
    expect(answer.grpcMessage).toBe('1 invalid field: events[0].é%x: unknown field "é%x"');
  });
});

describe('gRPC request logs', () => {
  let h: CommandApiHarness;
  let client: PaymentEventsGrpcClient;
  const lines: string[] = [];
  const completions = (reqId: string) =>
    lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((r) => r.msg === 'request completed' && r.reqId === reqId);
  beforeAll(async () => {
    h = await startCommandApiHarness({}, { write: (line: string) => void lines.push(line) });
    client = paymentEventsGrpcClient(h.grpcTarget!);
  });
  afterAll(async () => {
    client?.close();
    await h?.close();
  });

  it('writes one completion line per call with its request id and gRPC status, and never the key', async () => {
    expect((await recordOverGrpc(client, [completedEvent()], { key: h.key, requestId: 'grpc-log-1' })).response).toEqual({ accepted: 1, duplicates: 0 });
    expect((await recordOverGrpc(client, [completedEvent()], { key: 'pk_not-a-key', requestId: 'grpc-log-2' })).error?.code).toBe(grpc.status.UNAUTHENTICATED);
    const line = (grpcStatus: number, reqId: string) => ({
      level: 'info', time: expect.any(String), app: 'command-api', pid: process.pid, reqId,
      protocol: 'grpc', method: 'POST', url: RECORD_PAYMENT_EVENTS_PATH, status: 200, grpcStatus, durationMs: expect.any(Number), msg: 'request completed',
    });
    await eventually(() => {
      expect(completions('grpc-log-1')).toEqual([line(0, 'grpc-log-1')]);
      expect(completions('grpc-log-2')).toEqual([line(16, 'grpc-log-2')]);
    });
    expect(lines.join('')).not.toContain(h.key);
    expect(lines.join('')).not.toContain('pk_not-a-key');
  });
});

describe('gRPC over TLS', () => {
  let h: CommandApiHarness;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'grpc-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    h = await startCommandApiHarness({ COMMAND_API_GRPC_TLS_CERT: join(dir, 'cert.pem'), COMMAND_API_GRPC_TLS_KEY: join(dir, 'key.pem') });
  });
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves a client that trusts the certificate, and no cleartext client', async () => {
    expect(h.app.get(GrpcListener).url).toBe(`https://127.0.0.1:${h.app.get(GrpcListener).address!.port}`);
    const secure = paymentEventsGrpcClient(h.grpcTarget!, {
      credentials: grpc.credentials.createSsl(readFileSync(join(dir, 'cert.pem'))),
      channel: { 'grpc.ssl_target_name_override': 'localhost' },
    });
    const plain = paymentEventsGrpcClient(h.grpcTarget!);
    try {
      const event = completedEvent();
      expect((await recordOverGrpc(secure, [event], { key: h.key, requestId: 'tls-1' }))).toEqual({ response: { accepted: 1, duplicates: 0 }, requestId: 'tls-1' });
      expect((await stored(h, [event])).map((r) => r.request_id)).toEqual(['tls-1']);
      expect((await recordOverGrpc(plain, [completedEvent()], { key: h.key, deadlineMs: 3000 })).error?.code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      secure.close();
      plain.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('lets the calls in flight on both ports finish, and takes no new gRPC call, once shutdown begins', async () => {
    const h = await startCommandApiHarness();
    const client = paymentEventsGrpcClient(h.grpcTarget!);
    let closing: Promise<void> | undefined;
    try {
      const hold = await holdAppends(h.database.url);
      const events = [completedEvent(), completedEvent()];
      let inFlight: Array<Promise<GrpcAnswer>>;
      try {
        inFlight = [recordOverGrpc(client, [events[0]!], { key: h.key }), recordOverConnect(h.url, [events[1]!], h.key)];
        await eventually(() => expect(h.app.get(InFlightLimiter).current).toBe(2));
        closing = h.app.close();
        const late = paymentEventsGrpcClient(h.grpcTarget!);
        try {
          await eventually(async () => expect((await recordOverGrpc(late, [completedEvent()], { key: h.key, deadlineMs: 2000 })).error?.code).toBe(grpc.status.UNAVAILABLE));
        } finally {
          late.close();
        }
      } finally {
        await hold.release();
      }
      expect((await Promise.all(inFlight)).map((a) => a.response)).toEqual([{ accepted: 1, duplicates: 0 }, { accepted: 1, duplicates: 0 }]);
      await closing;
      expect((await stored(h, events)).length).toBe(2);
    } finally {
      client.close();
      if (!closing) await h.app.close();
      await h.pool.end();
      await h.nats.dispose();
      await h.database.drop();
    }
  });
});

function grpcFrame(event: Event): Buffer {
  return frame(Buffer.from(toBinary(RecordPaymentEventsRequestSchema, create(RecordPaymentEventsRequestSchema, fromJson(RecordPaymentEventsRequestSchema, { events: [event] } as never)))));
}

function jsonFrame(body: unknown): Buffer {
  return frame(Buffer.from(JSON.stringify(body)));
}

function frame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

interface RawAnswer {
  status: number;
  grpcStatus?: string;
  grpcMessage?: string;
  /** grpc-message as sent, when it differs from its decoded form. */
  rawGrpcMessage?: string;
  contentType?: string;
  acceptEncoding?: string;
  message?: Buffer;
}

/** What a raw HTTP/2 client receives: the status, grpc-status and grpc-message (from the headers of a Trailers-Only answer, else the trailers), and the body. */
function rawAnswer(stream: http2.ClientHttp2Stream): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const answer: RawAnswer = { status: 0 };
    const chunks: Buffer[] = [];
    const take = (headers: http2.IncomingHttpHeaders) => {
      if (headers['grpc-status'] !== undefined) answer.grpcStatus = String(headers['grpc-status']);
      if (headers['grpc-message'] !== undefined) {
        const raw = String(headers['grpc-message']);
        answer.grpcMessage = decodeURIComponent(raw);
        if (raw !== answer.grpcMessage) answer.rawGrpcMessage = raw;
      }
    };
    stream.on('response', (headers) => {
      answer.status = Number(headers[':status']);
      if (answer.status === 200 && headers['grpc-status'] === undefined) answer.contentType = String(headers['content-type']);
      if (headers['grpc-accept-encoding'] !== undefined && headers['grpc-status'] !== undefined) answer.acceptEncoding = String(headers['grpc-accept-encoding']);
      take(headers);
    });
    stream.on('trailers', take);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      if (chunks.length > 0) answer.message = Buffer.concat(chunks);
      resolve(answer);
    });
  });
}
