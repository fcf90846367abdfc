import { describe, expect, it } from 'vitest';
import { validateRecordRequest } from './record-request.validator.js';
import { OPTIONS, completedEvent, errorsOf, failedEvent, recordsOf, refundedEvent, request, type Json } from './payment-event.fixture.js';

const COMPLETED_JSON =
  '{"eventId":"0f8c1a52-6d1b-4c55-9a57-2a3e1c1d0b11","merchantId":"m-1001","occurredAt":"2026-11-20T03:15:00Z",' +
  '"paymentCompleted":{"paymentId":"p-1","customerId":"c-9","storeId":"s-1","method":"PAYMENT_METHOD_CARD",' +
  '"amount":{"currency":"JPY","minorUnits":"1200"}}}';
const COMPLETED_SHA256 = 'b967d92b7f0186c12db84a62de048d8ab794eebb08d66cac5fc88869a8510db8';

describe('validateRecordRequest: records', () => {
  it('normalises a payment_completed event into its record, canonical JSON and SHA-256', () => {
    expect(recordsOf(request(completedEvent()))).toEqual([
      {
        eventId: '0f8c1a52-6d1b-4c55-9a57-2a3e1c1d0b11',
        merchantId: 'm-1001',
        occurredAt: '2026-11-20T03:15:00Z',
        occurredAtMicros: 1_795_144_500_000_000n,
        type: 'payment_completed',
        body: {
          paymentId: 'p-1',
          customerId: 'c-9',
          storeId: 's-1',
          method: 'PAYMENT_METHOD_CARD',
          amount: { currency: 'JPY', minorUnits: 1200n },
        },
        canonicalJson: COMPLETED_JSON,
        bodyHash: Buffer.from(COMPLETED_SHA256, 'hex'),
      },
    ]);
  });

  it('normalises payment_failed (offset converted to UTC, fraction trimmed) and payment_refunded', () => {
    const [failed, refunded] = recordsOf(request(failedEvent(), refundedEvent()));
    expect(failed).toEqual({
      eventId: '7d7a4f0e-3f0b-4c1e-8d55-0b8f5b0f6a01',
      merchantId: 'shop.tokyo:42',
      occurredAt: '2026-11-20T03:00:00.25Z',
      occurredAtMicros: 1_795_143_600_250_000n,
      type: 'payment_failed',
      body: {
        paymentId: 'p-2',
        customerId: 'c-9',
        storeId: 's-1',
        method: 'PAYMENT_METHOD_WALLET',
        amount: { currency: 'USD', minorUnits: 1999n },
        reason: 'insufficient funds',
      },
      canonicalJson:
        '{"eventId":"7d7a4f0e-3f0b-4c1e-8d55-0b8f5b0f6a01","merchantId":"shop.tokyo:42","occurredAt":"2026-11-20T03:00:00.25Z",' +
        '"paymentFailed":{"paymentId":"p-2","customerId":"c-9","storeId":"s-1","method":"PAYMENT_METHOD_WALLET",' +
        '"amount":{"currency":"USD","minorUnits":"1999"},"reason":"insufficient funds"}}',
      bodyHash: Buffer.from('0d573822109963a801a8a77d852b7e415e4837867b087c0f320ced339411fbba', 'hex'),
    });
    expect(refunded).toEqual({
      eventId: 'c3e0b2a4-1111-4d2e-9f00-1234567890ab',
      merchantId: 'm-1001',
      occurredAt: '2026-11-20T03:20:00.000001Z',
      occurredAtMicros: 1_795_144_800_000_001n,
      type: 'payment_refunded',
      body: {
        paymentId: 'p-1',
        refundId: 'r-1',
        storeId: 's-1',
        method: 'PAYMENT_METHOD_BANK_TRANSFER',
        amount: { currency: 'JPY', minorUnits: 200n },
      },
      canonicalJson:
        '{"eventId":"c3e0b2a4-1111-4d2e-9f00-1234567890ab","merchantId":"m-1001","occurredAt":"2026-11-20T03:20:00.000001Z",' +
        '"paymentRefunded":{"paymentId":"p-1","refundId":"r-1","storeId":"s-1","method":"PAYMENT_METHOD_BANK_TRANSFER",' +
        '"amount":{"currency":"JPY","minorUnits":"200"}}}',
      bodyHash: Buffer.from('6dde8e8ffa0d3c95aaf43926054495de1cf66eba9a3ab977ae03c567c1b5d5ed', 'hex'),
    });
  });

  it('gives the same canonical JSON for the same event spelled differently', () => {
    // snake_case keys in another order, upper-case UUID, +09:00 offset, amount and method as numbers, explicit nulls.
    const spelledDifferently = {
      payment_completed: {
        amount: { minor_units: 1200, currency: 'JPY' },
        method: 1,
        store_id: 's-1',
        customer_id: 'c-9',
        payment_id: 'p-1',
      },
      payment_failed: null,
      occurred_at: '2026-11-20T12:15:00.000+09:00',
      merchant_id: 'm-1001',
      event_id: '0F8C1A52-6D1B-4C55-9A57-2A3E1C1D0B11',
    };
    const [record] = recordsOf(request(spelledDifferently));
    expect(record!.canonicalJson).toBe(COMPLETED_JSON);
    expect(record!.bodyHash.toString('hex')).toBe(COMPLETED_SHA256);
    expect(record!.occurredAtMicros).toBe(1_795_144_500_000_000n);
  });

  it('escapes free text in the canonical JSON', () => {
    const event = failedEvent();
    event.paymentFailed.paymentId = 'p-"7"\\x';
    event.paymentFailed.reason = 'declined\tby issuer\n(code 51) — 残高不足';
    expect(recordsOf(request(event))[0]!.canonicalJson).toBe(
      '{"eventId":"7d7a4f0e-3f0b-4c1e-8d55-0b8f5b0f6a01","merchantId":"shop.tokyo:42","occurredAt":"2026-11-20T03:00:00.25Z",' +
        '"paymentFailed":{"paymentId":"p-\\"7\\"\\\\x","customerId":"c-9","storeId":"s-1","method":"PAYMENT_METHOD_WALLET",' +
        '"amount":{"currency":"USD","minorUnits":"1999"},"reason":"declined\\tby issuer\\n(code 51) — 残高不足"}}',
    );
  });

  it('accepts 1000 events', () => {
    const events = Array.from({ length: 1000 }, (_, i) => ({
      ...completedEvent(),
      eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    }));
    const records = recordsOf(request(...events));
    expect(records).toHaveLength(1000);
    expect(records[999]!.eventId).toBe('00000000-0000-4000-8000-000000000999');
  });
});

describe('validateRecordRequest: the request', () => {
  it.each<[string, unknown, string]>([
    ['null', null, 'the request body must be a JSON object'],
    ['an array', [completedEvent()], 'the request body must be a JSON object'],
    ['a string', 'events', 'the request body must be a JSON object'],
  ])('rejects a body that is %s', (_, body, message) => {
    expect(errorsOf(body)).toEqual([{ path: '', message }]);
  });

  it('rejects an empty batch, a missing or null events, and 1001 events', () => {
    const tooMany = Array.from({ length: 1001 }, () => completedEvent());
    expect(errorsOf({ events: [] })).toEqual([{ path: 'events', message: 'must contain 1 to 1000 events' }]);
    expect(errorsOf({})).toEqual([{ path: 'events', message: 'must contain 1 to 1000 events' }]);
    expect(errorsOf({ events: null })).toEqual([{ path: 'events', message: 'must contain 1 to 1000 events' }]);
    expect(errorsOf({ events: tooMany })).toEqual([{ path: 'events', message: 'must contain 1 to 1000 events, got 1001' }]);
  });

  it('rejects events that is not an array, and an event that is not an object', () => {
    expect(errorsOf({ events: { 0: completedEvent() } })).toEqual([{ path: 'events', message: 'must be an array' }]);
    expect(errorsOf({ events: [completedEvent(), 5, null] })).toEqual([
      { path: 'events[1]', message: 'must be an object' },
      { path: 'events[2]', message: 'must be an object' },
    ]);
  });

  it('names each unknown top-level field', () => {
    expect(errorsOf({ events: [completedEvent()], dryRun: true, batch: 1 })).toEqual([
      { path: 'dryRun', message: 'unknown field "dryRun"' },
      { path: 'batch', message: 'unknown field "batch"' },
    ]);
  });

  it('collects the errors of every event at once, one per field', () => {
    const first = completedEvent();
    first.eventId = 'not-a-uuid';
    first.paymentCompleted.amount.minorUnits = '-5';
    const third = refundedEvent();
    third.merchantId = 'm 1001';
    third.occurredAt = '2026-02-30T00:00:00Z';
    delete third.paymentRefunded.refundId;
    third.paymentRefunded.amount.currency = 'ABC';
    expect(errorsOf(request(first, failedEvent(), third))).toEqual([
      { path: 'events[0].eventId', message: 'must be a UUID' },
      { path: 'events[0].paymentCompleted.amount.minorUnits', message: 'must be positive' },
      { path: 'events[2].merchantId', message: 'must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_", ":", "-"' },
      { path: 'events[2].occurredAt', message: 'is not a real calendar date and time' },
      { path: 'events[2].paymentRefunded.refundId', message: 'is required' },
      { path: 'events[2].paymentRefunded.amount.currency', message: 'must be an active ISO 4217 currency code' },
    ]);
  });
});

describe('validateRecordRequest: the same eventId twice in one batch', () => {
  it('accepts the same body twice (the store counts the second as a duplicate)', () => {
    const again: Json = completedEvent();
    again.eventId = again.eventId.toUpperCase();
    again.paymentCompleted.amount.minorUnits = 1200;
    const records = recordsOf(request(completedEvent(), failedEvent(), again));
    expect(records.map((r) => r.eventId)).toEqual([
      '0f8c1a52-6d1b-4c55-9a57-2a3e1c1d0b11',
      '7d7a4f0e-3f0b-4c1e-8d55-0b8f5b0f6a01',
      '0f8c1a52-6d1b-4c55-9a57-2a3e1c1d0b11',
    ]);
    expect(records[2]!.canonicalJson).toBe(COMPLETED_JSON);
  });

  it('rejects the second occurrence when the body differs', () => {
    const changed = completedEvent();
    changed.paymentCompleted.amount.minorUnits = '1201';
    expect(errorsOf(request(completedEvent(), failedEvent(), changed))).toEqual([
      { path: 'events[2].eventId', message: 'duplicates events[0] with a different body' },
    ]);
  });
});

describe('validateRecordRequest: options', () => {
  it('measures the future skew from the given now', () => {
    const body = request({ ...completedEvent(), occurredAt: '2026-11-21T00:05:00Z' });
    expect(validateRecordRequest(body, { ...OPTIONS, maxFutureSkewMs: 300_000 }).ok).toBe(true);
    expect(validateRecordRequest(body, { ...OPTIONS, maxFutureSkewMs: 299_999 })).toEqual({
      ok: false,
      errors: [{ path: 'events[0].occurredAt', message: 'is in the future by more than the allowed clock skew of 299999 ms' }],
    });
  });
});
