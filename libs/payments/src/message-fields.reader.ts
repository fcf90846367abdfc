import type { FieldError } from './validation-result.js';
import { REPORTED, report } from './field-errors.js';

/**
 * Set by requestFromProto on objects whose protobuf message carried fields this schema does not
 * know. A symbol key, so no JSON body can forge it and `for…in` never lists it.
 */
export const UNKNOWN_FIELDS: unique symbol = Symbol('unknownFields');

/**
 * A field number found in the binary message of this object, or (with `field`) in the message
 * of one of its fields that proto3 JSON writes as a plain value, such as a Timestamp.
 */
export interface UnknownFieldRef {
  field?: string;
  no: number;
}

export type WithUnknownFields = { [UNKNOWN_FIELDS]?: UnknownFieldRef[] };

/** The fields of one proto message: its proto3 JSON names (lowerCamelCase) and original names. */
export class MessageShape {
  readonly jsonNames: readonly string[];
  readonly protoNames: readonly string[];
  private readonly slots = new Map<string, number>();

  constructor(fields: ReadonlyArray<readonly [jsonName: string, protoName: string]>) {
    this.jsonNames = fields.map(([json]) => json);
    this.protoNames = fields.map(([, proto]) => proto);
    fields.forEach(([json, proto], slot) => {
      this.slots.set(json, slot);
      this.slots.set(proto, slot);
    });
  }

  slotOf(key: string): number | undefined {
    return this.slots.get(key);
  }
}

/**
 * Unknown fields named per object; the rest are counted in one more error. Each unknown field
 * would otherwise cost an error line (and a JSON key is echoed whole), so a body made of them
 * could get an answer many times its own size.
 */
export const MAX_UNKNOWN_FIELDS_NAMED = 8;
/** Longer unknown JSON keys are cut to this many characters in errors. */
export const MAX_UNKNOWN_NAME_CHARS = 64;

function shownName(key: string): string {
  if (key.length <= MAX_UNKNOWN_NAME_CHARS) return key;
  // By code point, so a cut never leaves half a surrogate pair.
  return `${Array.from(key).slice(0, MAX_UNKNOWN_NAME_CHARS).join('')}…`;
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a proto3 JSON object into one value per field, in the shape's order: either spelling
 * of a name is accepted, `null` counts as absent, and unknown or doubly given fields are
 * reported. Returns undefined (after reporting) when `raw` is not an object.
 */
export function readMessageFields(
  raw: unknown,
  shape: MessageShape,
  errors: FieldError[],
  objectPath: string,
): unknown[] | undefined {
  if (!isJsonObject(raw)) {
    report(errors, objectPath, undefined, 'must be an object');
    return undefined;
  }
  const values: unknown[] = new Array(shape.jsonNames.length).fill(undefined);
  let unknownFields = 0;
  for (const key in raw) {
    const slot = shape.slotOf(key);
    if (slot === undefined) {
      if (++unknownFields <= MAX_UNKNOWN_FIELDS_NAMED) {
        const name = shownName(key);
        report(errors, objectPath, name, `unknown field "${name}"`);
      }
      continue;
    }
    const value = raw[key];
    if (value === null) continue;
    if (values[slot] !== undefined) {
      report(errors, objectPath, shape.jsonNames[slot], `is given twice, as "${shape.jsonNames[slot]}" and "${shape.protoNames[slot]}"`);
      values[slot] = REPORTED;
      continue;
    }
    values[slot] = value;
  }
  const unknown = (raw as WithUnknownFields)[UNKNOWN_FIELDS];
  if (unknown !== undefined) {
    for (const { field, no } of unknown) {
      if (++unknownFields <= MAX_UNKNOWN_FIELDS_NAMED) report(errors, objectPath, field, `unknown field number ${no}`);
    }
  }
  if (unknownFields > MAX_UNKNOWN_FIELDS_NAMED) {
    const more = unknownFields - MAX_UNKNOWN_FIELDS_NAMED;
    report(errors, objectPath, undefined, `has ${more} more unknown field${more === 1 ? '' : 's'}`);
  }
  return values;
}
