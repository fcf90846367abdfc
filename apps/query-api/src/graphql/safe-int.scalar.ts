import { badUserInput } from './graphql-errors.js';
import { GraphQLScalarType, Kind } from './graphql-js.js';

/**
 * Counts as JSON numbers beyond GraphQL's 32-bit Int: any integer a
 * JavaScript number (an IEEE double) holds exactly, up to 2^53 - 1 either
 * way. Anything else is refused, never rounded: a count that could be read
 * as a neighbouring integer is a wrong count.
 */
function safeInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
  return undefined;
}

export const SafeIntScalar = new GraphQLScalarType<number, number>({
  name: 'SafeInt',
  description:
    'An integer between -(2^53 - 1) and 2^53 - 1, written as a JSON number: counts, which can outgrow the 32-bit Int over long ranges. ' +
    'Every such integer is exact as a JavaScript number or a double; larger values are refused rather than rounded.',
  serialize(value) {
    const n = safeInteger(value);
    if (n === undefined) throw new TypeError(`SafeInt cannot represent ${String(value)}: not an integer within ±(2^53 - 1)`);
    return n;
  },
  parseValue(value) {
    const n = safeInteger(value);
    if (n === undefined) throw badUserInput(`SafeInt must be an integer within ±(2^53 - 1), got ${JSON.stringify(value) ?? String(value)}`);
    return n;
  },
  parseLiteral(ast) {
    // Read as a bigint: 2^53 + 1 must not pass as the double 2^53.
    const n = ast.kind === Kind.INT ? safeInteger(BigInt(ast.value)) : undefined;
    if (n === undefined) throw badUserInput('SafeInt must be an integer literal within ±(2^53 - 1)');
    return n;
  },
});
