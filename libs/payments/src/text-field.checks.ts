import type { FieldError } from './validation-result.js';
import { report, requiredString } from './field-errors.js';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MERCHANT_ID = /^[A-Za-z0-9._:-]{1,64}$/;
/** Control characters or any surrogate: the slow path below tells which. */
const SUSPECT = /[\u0000-\u001f\u007f\ud800-\udfff]/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Length in Unicode code points; `.length` counts UTF-16 units and only overstates. */
function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

export function readUuid(value: unknown, errors: FieldError[], objectPath: string, name: string): string | undefined {
  const text = requiredString(value, errors, objectPath, name);
  if (text === undefined) return undefined;
  if (UUID.test(text)) return text.toLowerCase();
  report(errors, objectPath, name, 'must be a UUID');
  return undefined;
}

/** A merchant id as events carry it (the ops CLI checks the merchants it restricts an app to by the same rule). */
export function isMerchantId(value: string): boolean {
  return MERCHANT_ID.test(value);
}

export function readMerchantId(value: unknown, errors: FieldError[], objectPath: string, name: string): string | undefined {
  const text = requiredString(value, errors, objectPath, name);
  if (text === undefined) return undefined;
  if (MERCHANT_ID.test(text)) return text;
  report(errors, objectPath, name, 'must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_", ":", "-"');
  return undefined;
}

/**
 * Free text stored as given. Lone surrogates are refused everywhere: UTF-8 cannot encode them,
 * so the stored text and the hashed canonical JSON would silently differ from what was sent.
 */
function readText(
  value: unknown,
  errors: FieldError[],
  objectPath: string,
  name: string,
  maxLength: number,
  forbidden: RegExp,
  forbiddenMessage: string,
): string | undefined {
  const text = requiredString(value, errors, objectPath, name);
  if (text === undefined) return undefined;
  if (text.length > maxLength && codePoints(text) > maxLength) {
    report(errors, objectPath, name, `must be at most ${maxLength} characters`);
  } else if (!SUSPECT.test(text)) {
    return text;
  } else if (forbidden.test(text)) {
    report(errors, objectPath, name, forbiddenMessage);
  } else if (LONE_SURROGATE.test(text)) {
    report(errors, objectPath, name, 'must be well-formed Unicode (it contains a lone surrogate)');
  } else {
    return text;
  }
  return undefined;
}

/** paymentId, customerId, storeId, refundId: opaque producer ids. */
export function readId(value: unknown, errors: FieldError[], objectPath: string, name: string): string | undefined {
  return readText(value, errors, objectPath, name, 128, CONTROL, 'must not contain control characters');
}

/** Line breaks and tabs are fine in a reason; NUL is not (PostgreSQL text and jsonb cannot hold it). */
export function readReason(value: unknown, errors: FieldError[], objectPath: string, name: string): string | undefined {
  return readText(value, errors, objectPath, name, 256, /\u0000/, 'must not contain NUL characters');
}
