import type { FieldError } from './validation-result.js';

/** Stands in for a field whose error is already reported, so its checker stays silent (one error per field). */
export const REPORTED: unique symbol = Symbol('reported');

export function fieldPath(objectPath: string, name: string): string {
  return objectPath === '' ? name : `${objectPath}.${name}`;
}

/** Paths are built only here, on the error path: valid input concatenates no path strings. */
export function report(errors: FieldError[], objectPath: string, name: string | undefined, message: string): void {
  errors.push({ path: name === undefined ? objectPath : fieldPath(objectPath, name), message });
}

/**
 * The common start of every string check. proto3 cannot tell an empty string from an unset
 * one, so '' is reported as missing, the same as an absent field in the binary encoding.
 */
export function requiredString(value: unknown, errors: FieldError[], objectPath: string, name: string): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (value === undefined || value === '') report(errors, objectPath, name, 'is required');
  else if (value !== REPORTED) report(errors, objectPath, name, 'must be a string');
  return undefined;
}
