import { describe, expect, it } from 'vitest';
import { MAX_EVENTS_PER_REQUEST } from './record-request.validator.js';
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

  it('names every error of a full batch, the last one included', () => {
    const errors = Array.from({ length: MAX_EVENTS_PER_REQUEST }, (_, i) => [
      { path: `events[${i}].eventId`, message: 'must be a UUID' },
      { path: `events[${i}].paymentCompleted.amount.minorUnits`, message: 'must be positive' },
    ]).flat();
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) lines.push(`events[${i}].eventId: must be a UUID`, `events[${i}].paymentCompleted.amount.minorUnits: must be positive`);
    const message = formatValidationErrors(errors);
    expect(message).toBe(`2000 invalid fields: ${lines.join('; ')}`);
    expect(message.endsWith('; events[999].eventId: must be a UUID; events[999].paymentCompleted.amount.minorUnits: must be positive')).toBe(true);
  });
});
