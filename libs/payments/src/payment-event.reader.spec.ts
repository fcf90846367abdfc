import { describe, expect, it } from 'vitest';
import { completedEvent, errorsOf, recordsOf, request, type Json } from './payment-event.fixture.js';

/** Applies `change` to the example event and returns the errors of a one-event request. */
function errorsAfter(change: (event: Json) => void) {
  const event = completedEvent();
  change(event);
  return errorsOf(request(event));
}

function recordAfter(change: (event: Json) => void) {
  const event = completedEvent();
  change(event);
  return recordsOf(request(event))[0]!;
}

const KINDS = 'must have exactly one of paymentCompleted, paymentFailed, paymentRefunded';
const RFC3339 = 'must be an RFC 3339 timestamp such as 2026-11-20T03:15:00Z or 2026-11-20T12:15:00.250+09:00';
const CALENDAR = 'is not a real calendar date and time';
const FUTURE = 'is in the future by more than the allowed clock skew of 5 min';
const MERCHANT = 'must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_", ":", "-"';

describe('PaymentEvent fields', () => {
  it.each<[string, (e: Json) => void, string, string]>([
    ['a UUID one digit short', (e) => (e.eventId = '0f8c1a52-6d1b-4c55-9a57-2a3e1c1d0b1'), 'events[0].eventId', 'must be a UUID'],
    ['a UUID without hyphens', (e) => (e.eventId = '0f8c1a526d1b4c559a572a3e1c1d0b11'), 'events[0].eventId', 'must be a UUID'],
    ['a UUID in braces', (e) => (e.eventId = '{0f8c1a52-6d1b-4c55-9a57-2a3e1c1d0b11}'), 'events[0].eventId', 'must be a UUID'],
    ['a non-hex UUID', (e) => (e.eventId = '0f8c1a52-6d1b-4c55-9a57-2a3e1c1d0b1g'), 'events[0].eventId', 'must be a UUID'],
    ['an empty eventId', (e) => (e.eventId = ''), 'events[0].eventId', 'is required'],
    ['a numeric eventId', (e) => (e.eventId = 42), 'events[0].eventId', 'must be a string'],
    ['a missing eventId', (e) => delete e.eventId, 'events[0].eventId', 'is required'],
    ['a null merchantId', (e) => (e.merchantId = null), 'events[0].merchantId', 'is required'],
    ['a space in merchantId', (e) => (e.merchantId = 'm 1001'), 'events[0].merchantId', MERCHANT],
    ['a slash in merchantId', (e) => (e.merchantId = 'm/1001'), 'events[0].merchantId', MERCHANT],
    ['a non-ASCII merchantId', (e) => (e.merchantId = 'mé'), 'events[0].merchantId', MERCHANT],
    ['a 65-character merchantId', (e) => (e.merchantId = 'm'.repeat(65)), 'events[0].merchantId', MERCHANT],
    ['eventId given twice', (e) => (e.event_id = e.eventId), 'events[0].eventId', 'is given twice, as "eventId" and "event_id"'],
    ['an unknown field', (e) => (e.foo = 1), 'events[0].foo', 'unknown field "foo"'],
    ['a field of another message', (e) => (e.paymentId = 'p-1'), 'events[0].paymentId', 'unknown field "paymentId"'],
  ])('rejects %s', (_, change, path, message) => {
    expect(errorsAfter(change)).toEqual([{ path, message }]);
  });

  it('names 8 unknown fields of an object and counts the rest in one more error', () => {
    const names = Array.from({ length: 20 }, (_, i) => `extra${String(i).padStart(2, '0')}`);
    const errors = errorsAfter((e) => names.forEach((name) => (e[name] = 1)));
    expect(errors).toEqual([
      ...names.slice(0, 8).map((name) => ({ path: `events[0].${name}`, message: `unknown field "${name}"` })),
      { path: 'events[0]', message: 'has 12 more unknown fields' },
    ]);
  });

  it('cuts an unknown field name to 64 characters, never inside a surrogate pair', () => {
    const long = `${'k'.repeat(63)}😀${'x'.repeat(10_000)}`;
    const shown = `${'k'.repeat(63)}😀…`;
    expect(errorsAfter((e) => (e[long] = 1))).toEqual([{ path: `events[0].${shown}`, message: `unknown field "${shown}"` }]);
  });

  it('accepts any UUID version, in either case, and stores it in lower case', () => {
    expect(recordAfter((e) => (e.eventId = 'ABCDEF01-2345-1789-ABCD-EF0123456789')).eventId).toBe('abcdef01-2345-1789-abcd-ef0123456789');
    expect(recordAfter((e) => (e.eventId = '00000000-0000-0000-0000-000000000000')).eventId).toBe('00000000-0000-0000-0000-000000000000');
  });

  it('accepts a 64-character merchantId of every allowed character', () => {
    const merchantId = 'Az09._:-'.repeat(8);
    expect(recordAfter((e) => (e.merchantId = merchantId)).merchantId).toBe(merchantId);
  });
});

describe('PaymentEvent.occurredAt (now 2026-11-21T00:00:00Z, skew 5 min)', () => {
  it.each<[string, string, string]>([
    ['2026-02-30T00:00:00Z', 'events[0].occurredAt', CALENDAR],
    ['2025-02-29T00:00:00Z', 'events[0].occurredAt', CALENDAR],
    ['2100-02-29T00:00:00Z', 'events[0].occurredAt', CALENDAR],
    ['2026-04-31T00:00:00Z', 'events[0].occurredAt', CALENDAR],
    ['2026-13-01T00:00:00Z', 'events[0].occurredAt', CALENDAR],
    ['2026-11-20T24:00:00Z', 'events[0].occurredAt', CALENDAR],
    ['2026-11-20T03:60:00Z', 'events[0].occurredAt', CALENDAR],
    ['2026-11-20T03:15:60Z', 'events[0].occurredAt', CALENDAR],
    ['2026-11-20T03:15:00+24:00', 'events[0].occurredAt', CALENDAR],
    ['2026-11-20T03:15:00+09:60', 'events[0].occurredAt', CALENDAR],
    ['2026-11-20T03:15:00', 'events[0].occurredAt', RFC3339],
    ['2026-11-20 03:15:00Z', 'events[0].occurredAt', RFC3339],
    ['2026-11-20t03:15:00z', 'events[0].occurredAt', RFC3339],
    ['2026-11-20T03:15Z', 'events[0].occurredAt', RFC3339],
    ['2026-11-20T03:15:00.Z', 'events[0].occurredAt', RFC3339],
    ['2026-11-20T03:15:00.1234567891Z', 'events[0].occurredAt', RFC3339],
    ['2026-11-20T03:15:00+0900', 'events[0].occurredAt', RFC3339],
    ['2026-11-20T03:15:00+09', 'events[0].occurredAt', RFC3339],
    ['2026-11-20T03:15:00Z ', 'events[0].occurredAt', RFC3339],
    ['+2026-11-20T03:15:00Z', 'events[0].occurredAt', RFC3339],
    ['1763608500', 'events[0].occurredAt', RFC3339],
    ['2026-11-21T00:05:00.001Z', 'events[0].occurredAt', FUTURE],
    ['2026-11-21T00:05:00.000000001Z', 'events[0].occurredAt', FUTURE],
    ['2026-11-21T09:05:01+09:00', 'events[0].occurredAt', FUTURE],
    ['9999-12-31T23:59:59Z', 'events[0].occurredAt', FUTURE],
    ['1999-12-31T23:59:59.999999999Z', 'events[0].occurredAt', 'must not be before 2000-01-01T00:00:00Z'],
    ['2000-01-01T08:59:59+09:00', 'events[0].occurredAt', 'must not be before 2000-01-01T00:00:00Z'],
    ['0001-01-01T00:00:00Z', 'events[0].occurredAt', 'must not be before 2000-01-01T00:00:00Z'],
  ])('rejects %s', (occurredAt, path, message) => {
    expect(errorsAfter((e) => (e.occurredAt = occurredAt))).toEqual([{ path, message }]);
  });

  it('rejects a missing or non-string occurredAt', () => {
    expect(errorsAfter((e) => delete e.occurredAt)).toEqual([{ path: 'events[0].occurredAt', message: 'is required' }]);
    expect(errorsAfter((e) => (e.occurredAt = { seconds: 1 }))).toEqual([{ path: 'events[0].occurredAt', message: 'must be a string' }]);
  });

  it.each<[string, string, bigint]>([
    ['2026-11-20T08:45:00.500+05:30', '2026-11-20T03:15:00.5Z', 1_795_144_500_500_000n],
    ['2026-11-19T23:15:00-04:00', '2026-11-20T03:15:00Z', 1_795_144_500_000_000n],
    ['2026-11-20T03:15:00-00:00', '2026-11-20T03:15:00Z', 1_795_144_500_000_000n],
    ['2026-11-20T03:15:00.123456789Z', '2026-11-20T03:15:00.123456789Z', 1_795_144_500_123_456n],
    ['2026-11-20T03:15:00.100000000Z', '2026-11-20T03:15:00.1Z', 1_795_144_500_100_000n],
    ['2026-11-20T03:15:00.000Z', '2026-11-20T03:15:00Z', 1_795_144_500_000_000n],
    ['2024-03-01T00:30:00.000000001+01:00', '2024-02-29T23:30:00.000000001Z', 1_709_249_400_000_000n],
    ['2000-01-01T09:00:00+09:00', '2000-01-01T00:00:00Z', 946_684_800_000_000n],
    ['2026-11-21T00:05:00Z', '2026-11-21T00:05:00Z', 1_795_219_500_000_000n],
  ])('normalises %s to %s', (occurredAt, canonical, micros) => {
    const record = recordAfter((e) => (e.occurredAt = occurredAt));
    expect(record.occurredAt).toBe(canonical);
    expect(record.occurredAtMicros).toBe(micros);
    expect(record.canonicalJson).toContain(`"occurredAt":"${canonical}"`);
  });
});

describe('PaymentEvent kind', () => {
  it('rejects an event with no kind, or with only null kinds', () => {
    expect(errorsAfter((e) => delete e.paymentCompleted)).toEqual([{ path: 'events[0]', message: KINDS }]);
    expect(errorsAfter((e) => (e.paymentCompleted = null))).toEqual([{ path: 'events[0]', message: KINDS }]);
  });

  it('rejects two kinds, naming them, and still checks each', () => {
    expect(
      errorsAfter((e) => (e.paymentRefunded = { paymentId: 'p-1', refundId: 'r-1', storeId: 's-1', method: 'PAYMENT_METHOD_QR' })),
    ).toEqual([
      { path: 'events[0]', message: `${KINDS}, but has paymentCompleted and paymentRefunded` },
      { path: 'events[0].paymentRefunded.amount', message: 'is required' },
    ]);
  });

  it('treats a null kind beside another as absent', () => {
    expect(recordAfter((e) => (e.paymentFailed = null)).type).toBe('payment_completed');
  });

  it('reports a kind that is not an object, and an empty kind field by field', () => {
    expect(errorsAfter((e) => (e.paymentCompleted = 'yes'))).toEqual([
      { path: 'events[0].paymentCompleted', message: 'must be an object' },
    ]);
    expect(errorsAfter((e) => (e.paymentCompleted = {}))).toEqual([
      { path: 'events[0].paymentCompleted.paymentId', message: 'is required' },
      { path: 'events[0].paymentCompleted.customerId', message: 'is required' },
      { path: 'events[0].paymentCompleted.storeId', message: 'is required' },
      { path: 'events[0].paymentCompleted.method', message: 'is required' },
      { path: 'events[0].paymentCompleted.amount', message: 'is required' },
    ]);
  });
});
