/**
 * graphql-js, imported the way Node resolves it for mercurius and
 * @nestjs/graphql (its CommonJS `main`). graphql 16 also ships an ES build
 * (`module`), which Vite-based tooling (Vitest) would pick for our sources:
 * two copies of graphql then disagree on `instanceof GraphQLScalarType` and
 * on schema identity. Import runtime values from here, types from 'graphql'.
 */
export { getOperationAST, GraphQLError, GraphQLScalarType, Kind } from 'graphql/index.js';
// For the REST API, which reads the schema's types (rest/graphql-json-schema.ts) and coerces its parameters with them.
export { coerceInputValue, getNamedType, isEnumType, isListType, isNonNullType, isObjectType, isScalarType } from 'graphql/index.js';
