import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';

/** Where the document is registered with ajv; its `#/components/schemas/…` references resolve inside it. */
const DOCUMENT_ID = 'https://query-api.test/v1/openapi.json';

/** The members of an OpenAPI document that are not JSON Schema keywords: ajv keeps them as annotations. */
const OPENAPI_MEMBERS = ['openapi', 'info', 'paths', 'components', 'security', 'servers', 'tags', 'webhooks', 'externalDocs', 'jsonSchemaDialect'];

/**
 * The formats the document uses, checked as this test expects them, not as
 * the server writes them: date-times in UTC with milliseconds (the DateTime
 * scalar's answers), type URIs as absolute paths, OpenAPI's int32 and double.
 */
function withFormats(ajv: Ajv2020): Ajv2020 {
  return ajv
    .addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    .addFormat('uri-reference', /^\/[\x21-\x7e]*$/)
    .addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 })
    .addFormat('double', { type: 'number', validate: (n: number) => Number.isFinite(n) });
}

export interface OpenApiValidators {
  /** Why `value` is not a valid instance of the document's schema `name` (components/schemas), or [] when it is. */
  errorsOf(name: string, value: unknown): string[];
}

/** Validates values against the schemas of an OpenAPI 3.1 document, as it was served. */
export function openApiValidators(document: unknown): OpenApiValidators {
  const ajv = withFormats(new Ajv2020({ strict: true, allErrors: true }));
  ajv.addVocabulary(OPENAPI_MEMBERS);
  ajv.addSchema({ ...(document as object), $id: DOCUMENT_ID });
  const describe = (errors: ErrorObject[] | null | undefined) => (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
  return {
    errorsOf(name, value) {
      const validate = ajv.getSchema(`${DOCUMENT_ID}#/components/schemas/${name}`);
      if (validate === undefined) return [`no schema ${name}`];
      return validate(value) ? [] : describe(validate.errors);
    },
  };
}

/**
 * The essentials of an OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0),
 * written here from the specification's text: the required members, the
 * shapes of path items, operations, parameters and responses, and the
 * security schemes. Structural rules JSON Schema cannot say are checked by
 * documentProblems.
 */
const OPERATION_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ESSENTIALS = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['openapi', 'info'],
  anyOf: [{ required: ['paths'] }, { required: ['components'] }, { required: ['webhooks'] }],
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.\\d+(-.+)?$' },
    info: {
      type: 'object',
      required: ['title', 'version'],
      properties: { title: { type: 'string' }, version: { type: 'string' }, description: { type: 'string' }, summary: { type: 'string' } },
    },
    jsonSchemaDialect: { type: 'string' },
    paths: {
      type: 'object',
      propertyNames: { pattern: '^/' },
      additionalProperties: {
        type: 'object',
        propertyNames: { enum: [...OPERATION_METHODS, '$ref', 'summary', 'description', 'servers', 'parameters'] },
        properties: Object.fromEntries(OPERATION_METHODS.map((method) => [method, { $ref: '#/$defs/operation' }])),
      },
    },
    components: {
      type: 'object',
      properties: {
        schemas: { type: 'object', additionalProperties: { type: ['object', 'boolean'] } },
        securitySchemes: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            required: ['type'],
            properties: { type: { enum: ['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect'] } },
            if: { properties: { type: { const: 'http' } } },
            then: { required: ['scheme'] },
          },
        },
      },
    },
    security: { type: 'array', items: { $ref: '#/$defs/securityRequirement' } },
  },
  $defs: {
    securityRequirement: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
    operation: {
      type: 'object',
      required: ['responses'],
      properties: {
        operationId: { type: 'string' },
        summary: { type: 'string' },
        description: { type: 'string' },
        security: { type: 'array', items: { $ref: '#/$defs/securityRequirement' } },
        parameters: { type: 'array', items: { $ref: '#/$defs/parameter' } },
        responses: {
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: '^([1-5](\\d\\d|XX)|default)$' },
          additionalProperties: { $ref: '#/$defs/response' },
        },
      },
    },
    parameter: {
      type: 'object',
      required: ['name', 'in'],
      oneOf: [{ required: ['schema'] }, { required: ['content'] }],
      properties: {
        name: { type: 'string' },
        in: { enum: ['query', 'header', 'path', 'cookie'] },
        required: { type: 'boolean' },
        style: { enum: ['matrix', 'label', 'form', 'simple', 'spaceDelimited', 'pipeDelimited', 'deepObject'] },
        explode: { type: 'boolean' },
        schema: { type: ['object', 'boolean'] },
      },
      if: { properties: { in: { const: 'path' } } },
      then: { required: ['required'], properties: { required: { const: true } } },
    },
    response: {
      type: 'object',
      required: ['description'],
      properties: {
        description: { type: 'string' },
        headers: { type: 'object', additionalProperties: { type: 'object', not: { anyOf: [{ required: ['name'] }, { required: ['in'] }] } } },
        content: { type: 'object', additionalProperties: { type: 'object', properties: { schema: { type: ['object', 'boolean'] } } } },
      },
    },
  },
};

/**
 * What is wrong with `document` as an OpenAPI 3.1 document: its essentials
 * (above), every schema a valid JSON Schema 2020-12 (the dialect of OpenAPI
 * 3.1, checked against its meta-schema), every local reference resolving,
 * every path template variable a path parameter, operation ids unique.
 */
export function documentProblems(document: unknown): string[] {
  const problems: string[] = [];
  // Unknown keywords are refused; the essentials name members (required, if/then) without restating their types.
  const ajv = new Ajv2020({ strictSchema: true, strictTypes: false, strictRequired: false, allErrors: true });
  const essentials = ajv.compile(ESSENTIALS);
  if (!essentials(document)) problems.push(...(essentials.errors ?? []).map((e) => `essentials: ${e.instancePath || '/'} ${e.message}`));
  const doc = document as {
    paths?: Record<string, Record<string, { operationId?: string; parameters?: Array<{ name: string; in: string; schema?: unknown }>; responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>;
    components?: { schemas?: Record<string, unknown> };
  };
  const schemas: Array<[string, unknown]> = Object.entries(doc.components?.schemas ?? {}).map(([name, schema]) => [`components/schemas/${name}`, schema]);
  const operationIds: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      if (operation.operationId) operationIds.push(operation.operationId);
      const pathParameters = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      const variables = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
      if (JSON.stringify([...variables].sort()) !== JSON.stringify([...pathParameters].sort())) {
        problems.push(`${method} ${path}: path variables [${variables}] but path parameters [${pathParameters}]`);
      }
      for (const p of operation.parameters ?? []) if (p.schema !== undefined) schemas.push([`${method} ${path} parameter ${p.name}`, p.schema]);
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        for (const [type, media] of Object.entries(response.content ?? {})) if (media.schema !== undefined) schemas.push([`${method} ${path} ${status} ${type}`, media.schema]);
      }
    }
  }
  if (new Set(operationIds).size !== operationIds.length) problems.push(`operation ids repeat: ${operationIds.join(', ')}`);
  for (const [where, schema] of schemas) {
    if (!ajv.validateSchema(schema as object)) problems.push(`${where}: not a JSON Schema 2020-12: ${ajv.errorsText(ajv.errors)}`);
  }
  const visit = (value: unknown, at: string) => {
    if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${at}/${i}`));
    else if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (key === '$ref' && typeof v === 'string') {
          const target = v.startsWith('#/') ? v.slice(2).split('/').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], document) : undefined;
          if (target === undefined) problems.push(`${at}: $ref ${v} does not resolve in the document`);
        } else visit(v, `${at}/${key}`);
      }
    }
  };
  visit(document, '#');
  return problems;
}
