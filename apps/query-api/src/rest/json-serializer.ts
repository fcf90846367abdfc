import type { JsonSchema } from './graphql-json-schema.js';

type Serialize = (value: unknown) => string;

/**
 * Writes a value as JSON with exactly the properties its schema declares, in
 * the schema's order: the REST answer then holds what a GraphQL selection of
 * every field would, never a property the types do not declare (toMetricsResult
 * copies some objects whole). Dates become RFC 3339 in UTC with milliseconds,
 * as the DateTime scalar writes them; a value its schema does not allow (a
 * count beyond 2^53, a bigint amount) throws instead of being written wrong.
 */
export function jsonSerializer(root: JsonSchema, schemas: Record<string, JsonSchema>): Serialize {
  const named = new Map<string, Serialize>();
  const compile = (schema: JsonSchema): Serialize => {
    if (typeof schema.$ref === 'string') {
      const name = schema.$ref.slice(schema.$ref.lastIndexOf('/') + 1);
      // Looked up when first called: a named schema may refer to itself.
      return (value) => {
        let serialize = named.get(name);
        if (serialize === undefined) {
          const target = schemas[name];
          if (target === undefined) throw new Error(`no schema ${name}`);
          named.set(name, (serialize = compile(target)));
        }
        return serialize(value);
      };
    }
    if (Array.isArray(schema.anyOf)) {
      const [inner] = (schema.anyOf as JsonSchema[]).filter((s) => s.type !== 'null');
      const serialize = compile(inner!);
      return (value) => (value === null || value === undefined ? 'null' : serialize(value));
    }
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    const nullable = types.includes('null');
    const serialize = compileType(types.find((t) => t !== 'null')!, schema);
    return nullable ? (value) => (value === null || value === undefined ? 'null' : serialize(value)) : serialize;
  };
  const compileType = (type: string, schema: JsonSchema): Serialize => {
    switch (type) {
      case 'object': {
        const properties = Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>).map(([name, property]) => [JSON.stringify(name), name, compile(property)] as const);
        return (value) => {
          const object = value as Record<string, unknown>;
          return `{${properties.map(([key, name, serialize]) => `${key}:${serialize(object[name])}`).join(',')}}`;
        };
      }
      case 'array': {
        const item = compile(schema.items as JsonSchema);
        return (value) => `[${(value as unknown[]).map(item).join(',')}]`;
      }
      case 'string':
        return (value) => {
          if (value instanceof Date) return JSON.stringify(value.toISOString());
          if (typeof value !== 'string') throw new TypeError(`expected a string, got ${typeof value}`);
          return JSON.stringify(value);
        };
      case 'integer':
        return (value) => {
          if (!Number.isSafeInteger(value)) throw new TypeError(`expected an integer within ±(2^53 - 1), got ${String(value)}`);
          return String(value);
        };
      case 'number':
        return (value) => {
          if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`expected a finite number, got ${String(value)}`);
          return JSON.stringify(value);
        };
      case 'boolean':
        return (value) => {
          if (typeof value !== 'boolean') throw new TypeError(`expected a boolean, got ${typeof value}`);
          return value ? 'true' : 'false';
        };
      default:
        throw new Error(`cannot write JSON of type ${type}`);
    }
  };
  return compile(root);
}
