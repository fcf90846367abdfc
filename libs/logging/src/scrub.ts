import { redactUrlsIn } from '@app/config';
import { stdSerializers } from 'pino';
import { CENSORED, isSecretField } from './secret-fields.js';

/** The longest message or string field logged, in characters; a longer one is cut. */
export const MAX_TEXT = 8_192;
/** All the strings of one record's fields together, and how many values they may hold. */
const MAX_FIELD_CHARS = 32_768;
const MAX_VALUES = 1_000;
const MAX_DEPTH = 6;
const MAX_KEY = 256;

/** A text as it may be logged: URL credentials hidden (before cutting, so no half URL escapes), then cut. */
export function scrubText(text: string, max = MAX_TEXT): string {
  const redacted = redactUrlsIn(text);
  return redacted.length <= max ? redacted : `${redacted.slice(0, max)}… (${redacted.length - max} more characters cut)`;
}

/** What one record may still write: a huge or deeply nested field cannot make a huge line. */
class Budget {
  private chars = MAX_FIELD_CHARS;
  private values = MAX_VALUES;

  text(value: string): string {
    const text = scrubText(value, Math.max(0, Math.min(MAX_TEXT, this.chars)));
    this.chars -= text.length;
    return text;
  }

  take(): boolean {
    return this.values-- > 0 && this.chars > 0;
  }
}

/**
 * A copy of a record's fields with the value of every field named as a secret censored, at any
 * depth, every other string scrubbed (scrubText) and the whole bounded; errors become pino's
 * `{ type, message, stack, … }` first, and objects with toJSON (URL, Date) their JSON.
 */
export function scrubFields<T>(value: T): T {
  return scrub(value, new Budget(), 0) as T;
}

function scrub(value: unknown, budget: Budget, depth: number): unknown {
  if (typeof value === 'string') return budget.text(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH || !budget.take()) return '[cut]';
  if (value instanceof Error) return scrub(stdSerializers.err(value), budget, depth);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return scrub((value as { toJSON(): unknown }).toJSON(), budget, depth + 1);
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) {
      if (!budget.take()) break;
      items.push(scrub(item, budget, depth + 1));
    }
    if (items.length < value.length) items.push(`[${value.length - items.length} more cut]`);
    return items;
  }
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (!budget.take()) {
      copy['[cut]'] = true;
      break;
    }
    copy[key.length <= MAX_KEY ? key : `${key.slice(0, MAX_KEY)}…`] = isSecretField(key) ? CENSORED : scrub(field, budget, depth + 1);
  }
  return copy;
}
