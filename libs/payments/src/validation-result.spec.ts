import { describe, expect, it } from 'vitest';
import { formatValidationErrors } from './validation-result.js';

describe('formatValidationErrors', () => {
  it('joins the errors into one message', () => {
    expect(
      formatValidationErrors([
        { path: 'events[0].eventId', message: 'must be a UUID' },
        { path: 'events[3].occurredAt', message: 'is not a real calendar date and time' },
      ]),
    ).toBe('2 invalid fields: events[0].eventId: must be a UUID; events[3].occurredAt: is not a real calendar date and time');
  });

  it('says "field" for one error and leaves out an empty path', () => {
    expect(formatValidationErrors([{ path: '', message: 'the request body must be a JSON object' }])).toBe(
      '1 invalid field: the request body must be a JSON object',
    );
  });

  it('lists at most `limit` errors and counts the rest', () => {
    const errors = Array.from({ length: 5 }, (_, i) => ({ path: `events[${i}].merchantId`, message: 'is required' }));
    expect(formatValidationErrors(errors, 2)).toBe(
      '5 invalid fields: events[0].merchantId: is required; events[1].merchantId: is required; … and 3 more',
    );
    expect(formatValidationErrors(Array.from({ length: 21 }, () => errors[0]!))).toBe(
      `21 invalid fields: ${Array.from({ length: 20 }, () => 'events[0].merchantId: is required').join('; ')}; … and 1 more`,
    );
  });
});
