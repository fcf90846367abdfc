import { describe, expect, it } from 'vitest';
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { TimestampSchema } from '@bufbuild/protobuf/wkt';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import {
  MoneySchema,
  PaymentCompletedSchema,
  PaymentEventSchema,
  PaymentMethod,
  RecordPaymentEventsRequestSchema,
  type PaymentEvent,
} from '@app/contracts';
import { requestFromProto } from './request-from-proto.mapper.js';
import { validateRecordRequest } from './record-request.validator.js';
import { OPTIONS, completedEvent, errorsOf, failedEvent, recordsOf, refundedEvent, request } from './payment-event.fixture.js';

type RequestInit = MessageInitShape<typeof RecordPaymentEventsRequestSchema>;
/** The plain-object form of an event init (not an already built message), so cases can spread and edit it. */
type EventInit = Exclude<MessageInitShape<typeof PaymentEventSchema>, PaymentEvent>;

/** What a Connect server gets from an `application/proto` body. */
function overTheWire(init: RequestInit) {
  const bytes = toBinary(RecordPaymentEventsRequestSchema, create(RecordPaymentEventsRequestSchema, init));
  return fromBinary(RecordPaymentEventsRequestSchema, bytes);
}

/** A message as decoded from a sender whose schema has an extra field `no` (a varint). */
function withUnknownField<Desc extends DescMessage>(schema: Desc, init: MessageInitShape<Desc>, no: number): MessageShape<Desc> {
  const known = toBinary(schema, create(schema, init));
  const extra = new BinaryWriter().tag(no, WireType.Varint).uint32(1).finish();
  const bytes = new Uint8Array(known.length + extra.length);
  bytes.set(known);
  bytes.set(extra, known.length);
  return fromBinary(schema, bytes);
}

/** The fixture events of payment-event.fixture.ts, built as protobuf messages. */
function completedInit(): EventInit {
  return {
    eventId: '0f8c1a52-6d1b-4c55-9a57-2a3e1c1d0b11',
    merchantId: 'm-1001',
    occurredAt: { seconds: 1_795_144_500n, nanos: 0 },
    kind: {
      case: 'paymentCompleted',
      value: { paymentId: 'p-1', customerId: 'c-9', storeId: 's-1', method: PaymentMethod.CARD, amount: { currency: 'JPY', minorUnits: 1200n } },
    },
  };
}

function failedInit(): EventInit {
  return {
    eventId: '7d7a4f0e-3f0b-4c1e-8d55-0b8f5b0f6a01',
    merchantId: 'shop.tokyo:42',
    occurredAt: { seconds: 1_795_143_600n, nanos: 250_000_000 },
    kind: {
      case: 'paymentFailed',
      value: {
        paymentId: 'p-2',
        customerId: 'c-9',
        storeId: 's-1',
        method: PaymentMethod.WALLET,
        amount: { currency: 'USD', minorUnits: 1999n },
        reason: 'insufficient funds',
      },
    },
  };
}

function refundedInit(): EventInit {
  return {
    eventId: 'c3e0b2a4-1111-4d2e-9f00-1234567890ab',
    merchantId: 'm-1001',
    occurredAt: { seconds: 1_795_144_800n, nanos: 1000 },
    kind: {
      case: 'paymentRefunded',
      value: { paymentId: 'p-1', refundId: 'r-1', storeId: 's-1', method: PaymentMethod.BANK_TRANSFER, amount: { currency: 'JPY', minorUnits: 200n } },
    },
  };
}

describe('requestFromProto', () => {
  it('maps a decoded request to its proto3 JSON shape', () => {
    const message = overTheWire({ events: [{ ...completedInit(), occurredAt: { seconds: 1_795_144_500n, nanos: 123_456_789 } }, failedInit()] });
    expect(requestFromProto(message)).toEqual({
      events: [
        {
          eventId: '0f8c1a52-6d1b-4c55-9a57-2a3e1c1d0b11',
          merchantId: 'm-1001',
          occurredAt: '2026-11-20T03:15:00.123456789Z',
          paymentCompleted: {
            paymentId: 'p-1',
            customerId: 'c-9',
            storeId: 's-1',
            method: 'PAYMENT_METHOD_CARD',
            amount: { currency: 'JPY', minorUnits: '1200' },
          },
        },
        {
          eventId: '7d7a4f0e-3f0b-4c1e-8d55-0b8f5b0f6a01',
          merchantId: 'shop.tokyo:42',
          occurredAt: '2026-11-20T03:00:00.250000000Z',
          paymentFailed: {
            paymentId: 'p-2',
            customerId: 'c-9',
            storeId: 's-1',
            method: 'PAYMENT_METHOD_WALLET',
            amount: { currency: 'USD', minorUnits: '1999' },
            reason: 'insufficient funds',
          },
        },
      ],
    });
  });

  it('gives the same records as the JSON encoding of the same events', () => {
    const fromProto = validateRecordRequest(requestFromProto(overTheWire({ events: [completedInit(), failedInit(), refundedInit()] })), OPTIONS);
    expect(fromProto).toEqual({ ok: true, events: recordsOf(request(completedEvent(), failedEvent(), refundedEvent())) });
  });

  it('keeps every nanosecond of occurredAt in the canonical form', () => {
    const message = overTheWire({ events: [{ ...completedInit(), occurredAt: { seconds: 1_795_144_500n, nanos: 123_456_789 } }] });
    const [record] = recordsOf(requestFromProto(message));
    expect(record!.occurredAt).toBe('2026-11-20T03:15:00.123456789Z');
    expect(record!.occurredAtMicros).toBe(1_795_144_500_123_456n);
  });

  it('reports unset fields as required, as the JSON encoding does for absent ones', () => {
    const message = overTheWire({
      events: [
        {
          occurredAt: { seconds: 1_795_144_500n },
          kind: { case: 'paymentFailed', value: { paymentId: 'p-1', amount: {} } },
        },
        { eventId: '0f8c1a52-6d1b-4c55-9a57-2a3e1c1d0b11', merchantId: 'm-1001' },
      ],
    });
    expect(errorsOf(requestFromProto(message))).toEqual([
      { path: 'events[0].eventId', message: 'is required' },
      { path: 'events[0].merchantId', message: 'is required' },
      { path: 'events[0].paymentFailed.customerId', message: 'is required' },
      { path: 'events[0].paymentFailed.storeId', message: 'is required' },
      { path: 'events[0].paymentFailed.method', message: 'is required' },
      { path: 'events[0].paymentFailed.amount.currency', message: 'is required' },
      { path: 'events[0].paymentFailed.amount.minorUnits', message: 'is required' },
      { path: 'events[0].paymentFailed.reason', message: 'is required' },
      { path: 'events[1].occurredAt', message: 'is required' },
      { path: 'events[1]', message: 'must have exactly one of paymentCompleted, paymentFailed, paymentRefunded' },
    ]);
  });

  it('rejects an empty request, unknown enum numbers, negative amounts and impossible timestamps', () => {
    expect(errorsOf(requestFromProto(overTheWire({})))).toEqual([{ path: 'events', message: 'must contain 1 to 1000 events' }]);
    const bad = completedInit();
    bad.occurredAt = { seconds: 1_795_144_500n, nanos: -1 };
    bad.kind = { case: 'paymentCompleted', value: { paymentId: 'p-1', customerId: 'c-9', storeId: 's-1', method: 9 as PaymentMethod, amount: { currency: 'JPY', minorUnits: -5n } } };
    const old = { ...completedInit(), occurredAt: { seconds: 946_684_799n, nanos: 999_999_999 } };
    expect(errorsOf(requestFromProto(overTheWire({ events: [bad, old] })))).toEqual([
      { path: 'events[0].occurredAt', message: 'must be an RFC 3339 timestamp such as 2026-11-20T03:15:00Z or 2026-11-20T12:15:00.250+09:00' },
      {
        path: 'events[0].paymentCompleted.method',
        message: 'must be one of PAYMENT_METHOD_CARD, PAYMENT_METHOD_WALLET, PAYMENT_METHOD_QR, PAYMENT_METHOD_BANK_TRANSFER, PAYMENT_METHOD_POINTS (or 1 to 5)',
      },
      { path: 'events[0].paymentCompleted.amount.minorUnits', message: 'must be positive' },
      { path: 'events[1].occurredAt', message: 'must not be before 2000-01-01T00:00:00Z' },
    ]);
  });

  it('rejects a request of 1001 events', () => {
    const events = Array.from({ length: 1001 }, completedInit);
    expect(errorsOf(requestFromProto(overTheWire({ events })))).toEqual([{ path: 'events', message: 'must contain 1 to 1000 events, got 1001' }]);
  });

  it('names 8 unknown field numbers of a message and counts the rest in one more error', () => {
    const known = toBinary(PaymentEventSchema, create(PaymentEventSchema, completedInit()));
    const writer = new BinaryWriter();
    for (let no = 100; no < 130; no++) writer.tag(no, WireType.Varint).uint32(1);
    const extra = writer.finish();
    const bytes = new Uint8Array(known.length + extra.length);
    bytes.set(known);
    bytes.set(extra, known.length);
    const event = fromBinary(PaymentEventSchema, bytes);
    const decoded = fromBinary(RecordPaymentEventsRequestSchema, toBinary(RecordPaymentEventsRequestSchema, create(RecordPaymentEventsRequestSchema, { events: [event] })));
    expect(errorsOf(requestFromProto(decoded))).toEqual([
      ...Array.from({ length: 8 }, (_, i) => ({ path: 'events[0]', message: `unknown field number ${100 + i}` })),
      { path: 'events[0]', message: 'has 22 more unknown fields' },
    ]);
  });

  it('reports unknown fields by number at every depth', () => {
    const event = create(PaymentEventSchema, {
      ...withUnknownField(PaymentEventSchema, completedInit(), 99),
      occurredAt: withUnknownField(TimestampSchema, { seconds: 1_795_144_500n }, 15),
      kind: {
        case: 'paymentCompleted',
        value: withUnknownField(
          PaymentCompletedSchema,
          {
            paymentId: 'p-1',
            customerId: 'c-9',
            storeId: 's-1',
            method: PaymentMethod.QR,
            amount: withUnknownField(MoneySchema, { currency: 'JPY', minorUnits: 1200n }, 3),
          },
          6,
        ),
      },
    });
    const message = withUnknownField(RecordPaymentEventsRequestSchema, { events: [event] }, 2);
    // Round trip once more: unknown fields survive re-encoding, as they would through a proxy.
    const decoded = fromBinary(RecordPaymentEventsRequestSchema, toBinary(RecordPaymentEventsRequestSchema, message));
    expect(errorsOf(requestFromProto(decoded))).toEqual([
      { path: '', message: 'unknown field number 2' },
      { path: 'events[0].occurredAt', message: 'unknown field number 15' },
      { path: 'events[0]', message: 'unknown field number 99' },
      { path: 'events[0].paymentCompleted', message: 'unknown field number 6' },
      { path: 'events[0].paymentCompleted.amount', message: 'unknown field number 3' },
    ]);
  });
});
