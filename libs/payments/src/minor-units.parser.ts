import type { FieldError } from './validation-result.js';
import { REPORTED, report } from './field-errors.js';

const DIGITS = /^[0-9]+$/;
const NEGATIVE_DIGITS = /^-[0-9]+$/;
const INT64_MAX = '9223372036854775807';

function fromDigits(text: string, errors: FieldError[], objectPath: string, name: string): bigint | undefined {
  let start = 0;
  while (start < text.length - 1 && text.charCodeAt(start) === 48) start++;
  const digits = start === 0 ? text : text.slice(start);
  if (digits === '0') {
    report(errors, objectPath, name, 'must be positive');
    return undefined;
  }
  // Same-length digit strings compare like the numbers they spell.
  if (digits.length > INT64_MAX.length || (digits.length === INT64_MAX.length && digits > INT64_MAX)) {
    report(errors, objectPath, name, `must be at most ${INT64_MAX}`);
    return undefined;
  }
  return BigInt(digits);
}

/**
 * An int64 in proto3 JSON: a string of decimal digits, or a JSON number when it is an exact
 * integer (beyond 2^53 a JSON number has already lost digits in JSON.parse).
 */
export function readMinorUnits(value: unknown, errors: FieldError[], objectPath: string, name: string): bigint | undefined {
  if (typeof value === 'string') {
    if (DIGITS.test(value)) return fromDigits(value, errors, objectPath, name);
    const message = NEGATIVE_DIGITS.test(value) ? 'must be positive' : 'must be a positive integer in decimal digits, e.g. "1200"';
    report(errors, objectPath, name, message);
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value)) report(errors, objectPath, name, 'must be an integer');
    else if (value <= 0) report(errors, objectPath, name, 'must be positive');
    else if (value > Number.MAX_SAFE_INTEGER) {
      report(errors, objectPath, name, `exceeds ${Number.MAX_SAFE_INTEGER} as a JSON number; send it as a string`);
    } else return BigInt(value);
  } else if (value === undefined) {
    report(errors, objectPath, name, 'is required');
  } else if (value !== REPORTED) {
    report(errors, objectPath, name, 'must be a string of decimal digits or an integer');
  }
  return undefined;
}
