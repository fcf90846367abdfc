import { describe, expect, it } from 'vitest';
import { completedEvent, errorsOf, failedEvent, recordsOf, refundedEvent, request, type Json } from './payment-event.fixture.js';

function errorsAfter(make: () => Json, change: (event: Json) => void) {
  const event = make();
  change(event);
  return errorsOf(request(event));
}

function recordAfter(make: () => Json, change: (event: Json) => void) {
  const event = make();
  change(event);
  return recordsOf(request(event))[0]!;
}

const METHODS =
  'must be one of PAYMENT_METHOD_CARD, PAYMENT_METHOD_WALLET, PAYMENT_METHOD_QR, PAYMENT_METHOD_BANK_TRANSFER, PAYMENT_METHOD_POINTS (or 1 to 5)';
const DIGITS = 'must be a positive integer in decimal digits, e.g. "1200"';
const MINOR = 'events[0].paymentCompleted.amount.minorUnits';
const CURRENCY = 'events[0].paymentCompleted.amount.currency';
const METHOD = 'events[0].paymentCompleted.method';

describe('amount.minorUnits', () => {
  it.each<[string, unknown, string]>([
    ['a fraction', 12.5, 'must be an integer'],
    ['a fraction as a string', '12.5', DIGITS],
    ['an exponent form', '1e3', DIGITS],
    ['a leading +', '+5', DIGITS],
    ['a hex string', '0x10', DIGITS],
    ['spaces', ' 5', DIGITS],
    ['an empty string', '', DIGITS],
    ['a negative number', -5, 'must be positive'],
    ['a negative string', '-5', 'must be positive'],
    ['zero', 0, 'must be positive'],
    ['zero as a string', '0', 'must be positive'],
    ['zeros as a string', '000', 'must be positive'],
    ['2^63', '9223372036854775808', 'must be at most 9223372036854775807'],
    ['a 20-digit number', '10000000000000000000', 'must be at most 9223372036854775807'],
    ['a number past 2^53 - 1', 9007199254740992, 'exceeds 9007199254740991 as a JSON number; send it as a string'],
    ['a boolean', true, 'must be a string of decimal digits or an integer'],
    ['an object', { value: 5 }, 'must be a string of decimal digits or an integer'],
  ])('rejects %s', (_, minorUnits, message) => {
    expect(errorsAfter(completedEvent, (e) => (e.paymentCompleted.amount.minorUnits = minorUnits))).toEqual([{ path: MINOR, message }]);
  });

  it('rejects a missing or null minorUnits, and both spellings at once', () => {
    expect(errorsAfter(completedEvent, (e) => delete e.paymentCompleted.amount.minorUnits)).toEqual([{ path: MINOR, message: 'is required' }]);
    expect(errorsAfter(completedEvent, (e) => (e.paymentCompleted.amount.minorUnits = null))).toEqual([{ path: MINOR, message: 'is required' }]);
    expect(errorsAfter(completedEvent, (e) => (e.paymentCompleted.amount.minor_units = '1200'))).toEqual([
      { path: MINOR, message: 'is given twice, as "minorUnits" and "minor_units"' },
    ]);
  });

  it.each<[unknown, bigint, string]>([
    ['9223372036854775807', 9223372036854775807n, '9223372036854775807'],
    [9007199254740991, 9007199254740991n, '9007199254740991'],
    ['00042', 42n, '42'],
    [1, 1n, '1'],
  ])('accepts %j as %s', (minorUnits, value, text) => {
    const record = recordAfter(completedEvent, (e) => (e.paymentCompleted.amount.minorUnits = minorUnits));
    expect(record.body.amount.minorUnits).toBe(value);
    expect(record.canonicalJson).toContain(`"minorUnits":"${text}"}`);
  });
});

describe('amount.currency', () => {
  it.each<[unknown, string]>([
    ['ABC', 'must be an active ISO 4217 currency code'],
    ['XAU', 'must be an active ISO 4217 currency code'],
    ['XTS', 'must be an active ISO 4217 currency code'],
    ['XXX', 'must be an active ISO 4217 currency code'],
    ['CLF', 'must be an active ISO 4217 currency code'],
    ['HRK', 'must be an active ISO 4217 currency code'],
    ['JPYY', 'must be an active ISO 4217 currency code'],
    ['jpy', 'must be upper case ("JPY")'],
    ['Usd', 'must be upper case ("USD")'],
    ['', 'is required'],
    [392, 'must be a string'],
  ])('rejects %j', (currency, message) => {
    expect(errorsAfter(completedEvent, (e) => (e.paymentCompleted.amount.currency = currency))).toEqual([{ path: CURRENCY, message }]);
  });

  it.each(['EUR', 'USD', 'XOF', 'XCG', 'ZWG', 'SLE', 'VED'])('accepts %s', (currency) => {
    expect(recordAfter(completedEvent, (e) => (e.paymentCompleted.amount.currency = currency)).body.amount.currency).toBe(currency);
  });

  it('reports an amount that is missing, not an object, or has unknown fields', () => {
    expect(errorsAfter(completedEvent, (e) => delete e.paymentCompleted.amount)).toEqual([
      { path: 'events[0].paymentCompleted.amount', message: 'is required' },
    ]);
    expect(errorsAfter(completedEvent, (e) => (e.paymentCompleted.amount = 1200))).toEqual([
      { path: 'events[0].paymentCompleted.amount', message: 'must be an object' },
    ]);
    expect(errorsAfter(completedEvent, (e) => (e.paymentCompleted.amount.units = 12))).toEqual([
      { path: 'events[0].paymentCompleted.amount.units', message: 'unknown field "units"' },
    ]);
  });
});

describe('method', () => {
  it.each<[unknown, string]>([
    ['PAYMENT_METHOD_UNSPECIFIED', METHODS],
    [0, METHODS],
    [6, METHODS],
    [-1, METHODS],
    [1.5, METHODS],
    ['CARD', METHODS],
    ['payment_method_card', METHODS],
    ['1', METHODS],
    [true, 'must be an enum name or number'],
  ])('rejects %j', (method, message) => {
    expect(errorsAfter(completedEvent, (e) => (e.paymentCompleted.method = method))).toEqual([{ path: METHOD, message }]);
  });

  it.each<[unknown, string]>([
    [1, 'PAYMENT_METHOD_CARD'],
    [2, 'PAYMENT_METHOD_WALLET'],
    [3, 'PAYMENT_METHOD_QR'],
    [4, 'PAYMENT_METHOD_BANK_TRANSFER'],
    [5, 'PAYMENT_METHOD_POINTS'],
    ['PAYMENT_METHOD_POINTS', 'PAYMENT_METHOD_POINTS'],
  ])('accepts %j as %s', (method, name) => {
    const record = recordAfter(completedEvent, (e) => (e.paymentCompleted.method = method));
    expect(record.body.method).toBe(name);
    expect(record.canonicalJson).toContain(`"method":"${name}"`);
  });
});

describe('id fields and reason', () => {
  it.each<[string, () => Json, (e: Json) => void, string, string]>([
    ['paymentId of 129 characters', completedEvent, (e) => (e.paymentCompleted.paymentId = 'p'.repeat(129)), 'events[0].paymentCompleted.paymentId', 'must be at most 128 characters'],
    ['customerId with a control character', completedEvent, (e) => (e.paymentCompleted.customerId = 'c\u00019'), 'events[0].paymentCompleted.customerId', 'must not contain control characters'],
    ['storeId with a newline', completedEvent, (e) => (e.paymentCompleted.storeId = 's-1\n'), 'events[0].paymentCompleted.storeId', 'must not contain control characters'],
    ['storeId with DEL', completedEvent, (e) => (e.paymentCompleted.storeId = 's\u007f1'), 'events[0].paymentCompleted.storeId', 'must not contain control characters'],
    ['paymentId with a lone surrogate', completedEvent, (e) => (e.paymentCompleted.paymentId = 'p-\ud800'), 'events[0].paymentCompleted.paymentId', 'must be well-formed Unicode (it contains a lone surrogate)'],
    ['missing customerId', completedEvent, (e) => delete e.paymentCompleted.customerId, 'events[0].paymentCompleted.customerId', 'is required'],
    ['empty paymentId', completedEvent, (e) => (e.paymentCompleted.paymentId = ''), 'events[0].paymentCompleted.paymentId', 'is required'],
    ['numeric storeId', completedEvent, (e) => (e.paymentCompleted.storeId = 1), 'events[0].paymentCompleted.storeId', 'must be a string'],
    ['refundId of 129 characters', refundedEvent, (e) => (e.paymentRefunded.refundId = 'r'.repeat(129)), 'events[0].paymentRefunded.refundId', 'must be at most 128 characters'],
    ['customerId on a refund', refundedEvent, (e) => (e.paymentRefunded.customerId = 'c-9'), 'events[0].paymentRefunded.customerId', 'unknown field "customerId"'],
    ['reason on a completed payment', completedEvent, (e) => (e.paymentCompleted.reason = 'x'), 'events[0].paymentCompleted.reason', 'unknown field "reason"'],
    ['missing reason', failedEvent, (e) => delete e.paymentFailed.reason, 'events[0].paymentFailed.reason', 'is required'],
    ['reason of 257 characters', failedEvent, (e) => (e.paymentFailed.reason = 'r'.repeat(257)), 'events[0].paymentFailed.reason', 'must be at most 256 characters'],
    ['reason with NUL', failedEvent, (e) => (e.paymentFailed.reason = 'bad\u0000'), 'events[0].paymentFailed.reason', 'must not contain NUL characters'],
    ['snake and camel paymentId', failedEvent, (e) => (e.paymentFailed.payment_id = 'p-2'), 'events[0].paymentFailed.paymentId', 'is given twice, as "paymentId" and "payment_id"'],
  ])('rejects %s', (_, make, change, path, message) => {
    expect(errorsAfter(make, change)).toEqual([{ path, message }]);
  });

  it('counts characters, not UTF-16 units, and allows line breaks in a reason', () => {
    const emoji = '💳'.repeat(128);
    expect(recordAfter(completedEvent, (e) => (e.paymentCompleted.paymentId = emoji)).body.paymentId).toBe(emoji);
    expect(recordAfter(completedEvent, (e) => (e.paymentCompleted.paymentId = 'p'.repeat(128))).body.paymentId).toHaveLength(128);
    const reason = 'declined\r\n\tby issuer ' + 'é'.repeat(235); // 256 characters
    expect(recordAfter(failedEvent, (e) => (e.paymentFailed.reason = reason)).body).toEqual({
      paymentId: 'p-2',
      customerId: 'c-9',
      storeId: 's-1',
      method: 'PAYMENT_METHOD_WALLET',
      amount: { currency: 'USD', minorUnits: 1999n },
      reason,
    });
  });
});
