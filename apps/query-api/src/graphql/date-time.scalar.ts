import { GraphQLScalarType, Kind } from './graphql-js.js';
import { badUserInput } from './graphql-errors.js';

const RFC_3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d{1,9})?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Strict RFC 3339 with an explicit offset. A date-time without an offset
 * would silently mean the server's zone, so it is refused; so are impossible
 * dates such as February 30, which Date.parse would roll into March.
 */
export function parseDateTime(text: string): Date {
  const match = RFC_3339.exec(text);
  const millis = match ? Date.parse(text) : NaN;
  if (!match || Number.isNaN(millis)) {
    throw badUserInput(`DateTime must be RFC 3339 with an offset, like 2026-11-20T03:15:00Z or 2026-11-20T12:15:00+09:00; got "${text}"`);
  }
  const offsetMinutes = match[2] === 'Z' ? 0 : (match[3] === '-' ? -1 : 1) * (Number(match[4]) * 60 + Number(match[5]));
  const wallClock = new Date(millis + offsetMinutes * 60_000).toISOString().slice(0, 19);
  if (wallClock !== match[1] || Math.abs(offsetMinutes) >= 24 * 60) {
    throw badUserInput(`DateTime "${text}" is not a real date and time`);
  }
  return new Date(millis);
}

/** ISO strings by instant: answers repeat the same bucket starts query after query. */
const isoStrings = new Map<number, string>();

function toIso(value: Date): string {
  const t = value.getTime();
  let text = isoStrings.get(t);
  if (text === undefined) {
    text = value.toISOString();
    if (isoStrings.size >= 100_000) isoStrings.clear();
    isoStrings.set(t, text);
  }
  return text;
}

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description:
    'An instant as an RFC 3339 string with an offset (2026-11-20T03:15:00Z, 2026-11-20T12:15:00+09:00). Answers are always in UTC with milliseconds.',
  serialize(value) {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TypeError('DateTime can only serialize a valid Date');
    return toIso(value);
  },
  parseValue(value) {
    if (typeof value !== 'string') throw badUserInput('DateTime must be a string');
    return parseDateTime(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw badUserInput('DateTime must be a string');
    return parseDateTime(ast.value);
  },
});
