import { createHash } from 'node:crypto';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { GraphQLArgument, GraphQLError, GraphQLSchema } from 'graphql';
import { coerceInputValue, getNamedType, isObjectType } from '../graphql/graphql-js.js';
import type { MerchantMetricsArgs } from '../merchants/queries/merchant-metrics/merchant-metrics.args.js';
import { argumentSchema, isRequiredArgument, outputSchemas, type JsonSchema } from './graphql-json-schema.js';
import { jsonSerializer } from './json-serializer.js';
import { openApiDocument } from './openapi-document.js';
import { PROBLEM_TYPES, Problem } from './problem.js';

/** The GraphQL field the REST endpoint is: the same arguments, the same answer. */
export const METRICS_FIELD = 'merchantMetrics';
/** Arguments carried in the path rather than the query. */
const PATH_ARGUMENTS = new Set(['merchantId']);

export interface RestParameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  /** A list parameter is repeated, one value each (OpenAPI's form style, exploded: its default for query parameters). */
  list: boolean;
  schema: JsonSchema;
  argument: GraphQLArgument;
}

/** What the endpoint takes and gives, derived from the GraphQL schema; the validator and the OpenAPI document both read it. */
export interface MetricsApiDefinitions {
  description: string | undefined;
  parameters: RestParameter[];
  /** The answer (a reference to its root schema) and every named schema it uses. */
  answer: { root: JsonSchema; schemas: Record<string, JsonSchema> };
  /** The query string's schema: every query parameter, the required ones, no other. */
  querySchema: JsonSchema;
}

export function metricsApiDefinitions(schema: GraphQLSchema): MetricsApiDefinitions {
  const field = schema.getQueryType()?.getFields()[METRICS_FIELD];
  const result = field === undefined ? undefined : getNamedType(field.type);
  if (field === undefined || !isObjectType(result)) throw new Error(`the GraphQL schema has no ${METRICS_FIELD} field returning an object`);
  const parameters: RestParameter[] = field.args.map((argument) => {
    const schema = argumentSchema(argument);
    const list = schema.type === 'array';
    // Each list value is one of the enum's (or a string): at most as many as the enum has, one per value.
    const items = (schema.items ?? {}) as JsonSchema;
    const bounded = list && Array.isArray(items.enum) ? { ...schema, maxItems: items.enum.length } : schema;
    return {
      name: argument.name,
      in: PATH_ARGUMENTS.has(argument.name) ? 'path' : 'query',
      required: PATH_ARGUMENTS.has(argument.name) || isRequiredArgument(argument),
      ...(argument.description ? { description: argument.description } : {}),
      list,
      schema: bounded,
      argument,
    };
  });
  const query = parameters.filter((p) => p.in === 'query');
  return {
    description: field.description ?? undefined,
    parameters,
    answer: outputSchemas(result),
    querySchema: {
      type: 'object',
      properties: Object.fromEntries(query.map((p) => [p.name, p.schema])),
      required: query.filter((p) => p.required).map((p) => p.name),
      additionalProperties: false,
    },
  };
}

const badParameter = (detail: string) => new Problem(PROBLEM_TYPES.badUserInput, detail);

function listOf(names: string[], last: 'and' | 'or'): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} ${last} ${names.at(-1)}`;
}

/**
 * Reads a request's merchant id and query string into the GraphQL field's
 * arguments: first the query's shape against the query schema (ajv: unknown,
 * missing and repeated parameters, enum values, how many list values), each
 * refusal a BAD_USER_INPUT problem naming the parameter; then each value
 * coerced by its GraphQL type, so a date-time is parsed by the DateTime
 * scalar itself (strict RFC 3339 with an offset) and an absent parameter takes
 * the argument's default. The result goes through toMetricsQuery, as GraphQL's
 * arguments do.
 */
export class MetricsQueryParser {
  private readonly validate: ValidateFunction;
  private readonly query: RestParameter[];

  constructor(private readonly definitions: MetricsApiDefinitions) {
    // Formats are left to the scalars, which check more strictly than ajv would (February 30, offsets).
    this.validate = new Ajv2020({ strict: true, allErrors: false, validateFormats: false }).compile(definitions.querySchema);
    this.query = definitions.parameters.filter((p) => p.in === 'query');
  }

  parse(merchantId: string, raw: unknown): MerchantMetricsArgs {
    const given = this.normalise(raw);
    if (!this.validate(given)) throw badParameter(this.messageOf(this.validate.errors![0]!, given));
    const args: Record<string, unknown> = {};
    for (const parameter of this.definitions.parameters) {
      const value = parameter.in === 'path' ? merchantId : given[parameter.name];
      if (value === undefined) {
        args[parameter.name] = parameter.argument.defaultValue ?? null;
        continue;
      }
      let failure: GraphQLError | undefined;
      const coerced = coerceInputValue(value, parameter.argument.type, (_path, _invalid, error) => {
        failure ??= error;
      });
      if (failure !== undefined) {
        const space = typeof value === 'string' && value.includes(' ') ? ' (in a URL query "+" means a space: write an offset\'s "+" as %2B)' : '';
        throw badParameter(`parameter "${parameter.name}": ${failure.message}${space}`);
      }
      args[parameter.name] = coerced;
    }
    return args as unknown as MerchantMetricsArgs;
  }

  /** The parsed query string as an object of its own properties; a list parameter given once is a list of one. */
  private normalise(raw: unknown): Record<string, unknown> {
    const entries = Object.entries(raw !== null && typeof raw === 'object' ? raw : {});
    return Object.fromEntries(
      entries.map(([name, value]) => [name, this.query.some((p) => p.name === name && p.list) && !Array.isArray(value) ? [value] : value]),
    );
  }

  private messageOf(error: ErrorObject, given: Record<string, unknown>): string {
    // A JSON Pointer into the query: its first segment is the parameter.
    const name = (error.instancePath.split('/')[1] ?? '').replaceAll('~1', '/').replaceAll('~0', '~');
    const value = given[name];
    const times = Array.isArray(value) ? value.length : 1;
    switch (error.keyword) {
      case 'additionalProperties':
        return `unknown parameter "${(error.params as { additionalProperty: string }).additionalProperty}"; the parameters are ${listOf(this.query.map((p) => p.name), 'and')}`;
      case 'required': {
        const missing = (error.params as { missingProperty: string }).missingProperty;
        const description = this.query.find((p) => p.name === missing)?.description;
        return `missing parameter "${missing}"${description ? `: ${description}` : ''}`;
      }
      case 'type':
        return Array.isArray(value) ? `parameter "${name}" is given ${times} times; give it once` : `parameter "${name}" must be a ${(error.params as { type: string }).type}`;
      case 'maxItems':
        return `parameter "${name}" is given ${times} times; at most ${(error.params as { limit: number }).limit} are allowed`;
      case 'enum': {
        const bad = error.instancePath.split('/').length > 2 ? (value as unknown[])[Number(error.instancePath.split('/')[2])] : value;
        const allowed = (error.params as { allowedValues: string[] }).allowedValues;
        const comma = Array.isArray(value) && typeof bad === 'string' && bad.includes(',') ? `; repeat the parameter for each value: ${name}=${allowed[0]}&${name}=${allowed[1] ?? allowed[0]}` : '';
        return `parameter "${name}" must be ${listOf(allowed, 'or')}, got ${JSON.stringify(bad)}${comma}`;
      }
      default:
        return `parameter "${name}" ${error.message ?? 'is invalid'}`;
    }
  }
}

/** Everything the handlers need, built once from the GraphQL schema. */
export interface BuiltContract {
  definitions: MetricsApiDefinitions;
  parser: MetricsQueryParser;
  /** Writes a MetricsResultModel as the answer's JSON. */
  serialize: (answer: unknown) => string;
  /** The OpenAPI document, as served. */
  document: string;
  /** A hash of the document: it changes whenever what an answer holds does (the ETags' answer revision). */
  revision: string;
}

export function buildContract(schema: GraphQLSchema): BuiltContract {
  const definitions = metricsApiDefinitions(schema);
  const document = JSON.stringify(openApiDocument(definitions));
  return {
    definitions,
    parser: new MetricsQueryParser(definitions),
    serialize: jsonSerializer(definitions.answer.root, definitions.answer.schemas),
    document,
    revision: createHash('sha256').update(document).digest('base64url').slice(0, 16),
  };
}

/**
 * The contract, built once the GraphQL schema is (GraphQLModule builds it
 * while the modules initialise), before the server listens.
 */
@Injectable()
export class MetricsApiContract implements OnApplicationBootstrap {
  private built: BuiltContract | undefined;

  constructor(private readonly schemaHost: GraphQLSchemaHost) {}

  onApplicationBootstrap(): void {
    this.built = buildContract(this.schemaHost.schema);
  }

  get value(): BuiltContract {
    if (this.built === undefined) throw new Error('the REST API contract is built when the application bootstraps');
    return this.built;
  }
}
