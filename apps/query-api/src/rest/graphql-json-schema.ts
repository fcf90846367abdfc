import type { GraphQLArgument, GraphQLEnumType, GraphQLInputType, GraphQLNamedType, GraphQLObjectType, GraphQLOutputType, GraphQLScalarType } from 'graphql';
import { isEnumType, isListType, isNonNullType, isObjectType, isScalarType } from '../graphql/graphql-js.js';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1) as plain data. */
export type JsonSchema = { [keyword: string]: unknown };

/** Where the OpenAPI document keeps named schemas; answer types are referenced from there by name. */
export const SCHEMAS_POINTER = '#/components/schemas/';

/**
 * JSON Schemas of the GraphQL schema's own types: the REST API's parameters
 * and answer are the `merchantMetrics` field's arguments and result, so both
 * APIs take and give the same values from one set of definitions (the
 * code-first GraphQL types, their enums and scalars), and the OpenAPI
 * document cannot drift from what GraphQL declares.
 */

const INT32 = 2 ** 31;

/**
 * Every scalar the types use. Another one fails at start-up: a value could not
 * be described, so it could not be validated either.
 */
function scalarSchema(type: GraphQLScalarType): JsonSchema {
  switch (type.name) {
    case 'String':
    case 'ID':
      return { type: 'string' };
    case 'Boolean':
      return { type: 'boolean' };
    case 'Int':
      return { type: 'integer', format: 'int32', minimum: -INT32, maximum: INT32 - 1 };
    case 'Float':
      return { type: 'number', format: 'double' };
    // Counts: JSON numbers, exact within ±(2^53 - 1) (graphql/safe-int.scalar.ts).
    case 'SafeInt':
      return { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };
    // Strict RFC 3339 with an offset (graphql/date-time.scalar.ts); answers are in UTC with milliseconds.
    case 'DateTime':
      return { type: 'string', format: 'date-time' };
    default:
      throw new Error(`the REST API has no JSON Schema for the GraphQL scalar ${type.name}`);
  }
}

/** An enum as its values, each value's description listed in the schema's. */
function enumSchema(type: GraphQLEnumType): JsonSchema {
  const values = type.getValues();
  const listed = values.map((v) => `- \`${v.name}\`${v.description ? `: ${v.description}` : ''}`).join('\n');
  return { type: 'string', enum: values.map((v) => v.name), description: [type.description, listed].filter(Boolean).join('\n\n') };
}

function orNull(schema: JsonSchema): JsonSchema {
  if (typeof schema.$ref === 'string') return { anyOf: [schema, { type: 'null' }] };
  return { ...schema, type: [schema.type, 'null'], ...(Array.isArray(schema.enum) ? { enum: [...schema.enum, null] } : {}) };
}

function withDescription(schema: JsonSchema, description: string | null | undefined): JsonSchema {
  return description ? { ...schema, description } : schema;
}

/**
 * The answer's schemas: one per object type reachable from `root`, by its
 * GraphQL name, every field required (REST answers every field) and no other
 * allowed, fields nullable where GraphQL's are. Returns the named schemas and
 * a reference to the root.
 */
export function outputSchemas(root: GraphQLObjectType): { root: JsonSchema; schemas: Record<string, JsonSchema> } {
  const schemas: Record<string, JsonSchema> = {};
  const named = (type: GraphQLNamedType): JsonSchema => {
    if (isScalarType(type)) return scalarSchema(type);
    if (isEnumType(type)) return enumSchema(type);
    if (!isObjectType(type)) throw new Error(`the REST API cannot describe the GraphQL type ${type.name}`);
    if (!(type.name in schemas)) {
      const object: JsonSchema = { type: 'object', ...(type.description ? { description: type.description } : {}) };
      // Placed before its fields are described, so that a cycle would end at the reference.
      schemas[type.name] = object;
      const fields = Object.values(type.getFields());
      object.properties = Object.fromEntries(fields.map((field) => [field.name, withDescription(output(field.type), field.description)]));
      object.required = fields.map((field) => field.name);
      object.additionalProperties = false;
    }
    return { $ref: `${SCHEMAS_POINTER}${type.name}` };
  };
  const output = (type: GraphQLOutputType): JsonSchema => {
    if (isNonNullType(type)) return nonNull(type.ofType);
    return orNull(nonNull(type));
  };
  const nonNull = (type: GraphQLOutputType): JsonSchema => (isListType(type) ? { type: 'array', items: output(type.ofType) } : named(type as GraphQLNamedType));
  return { root: named(root), schemas };
}

/**
 * The schema of one argument's value as a query parameter carries it: a list
 * is the parameter repeated, and null cannot be written, so a nullable
 * argument is simply an optional parameter (absent: its default).
 */
export function argumentSchema(argument: GraphQLArgument): JsonSchema {
  const value = (type: GraphQLInputType): JsonSchema => {
    const inner = isNonNullType(type) ? type.ofType : type;
    if (isListType(inner)) return { type: 'array', items: value(inner.ofType) };
    if (isScalarType(inner)) return scalarSchema(inner);
    if (isEnumType(inner)) return enumSchema(inner);
    throw new Error(`the REST API cannot take the GraphQL argument ${argument.name} as a query parameter`);
  };
  const schema = value(argument.type);
  return argument.defaultValue === undefined ? schema : { ...schema, default: argument.defaultValue };
}

/** Whether the argument must be given: non-null and without a default. */
export function isRequiredArgument(argument: GraphQLArgument): boolean {
  return isNonNullType(argument.type) && argument.defaultValue === undefined;
}
