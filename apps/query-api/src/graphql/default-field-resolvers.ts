import type { GraphQLField, GraphQLSchema } from 'graphql';

/**
 * Code-first Nest gives every field of an object type a resolver,
 * `rootFieldResolver`, which reads `parent[field]` (or the field's
 * defaultValue, which none of our output fields declares): GraphQL's default
 * resolver, as a function to call. Without it graphql-jit (mercurius `jit`)
 * compiles such a field to a property read, instead of a resolver call per
 * field per point, which is most of the execution of a long series. Fields
 * with resolvers of their own (the Query fields, middleware) are left alone.
 */
export function withDefaultFieldResolvers(schema: GraphQLSchema): GraphQLSchema {
  for (const [name, type] of Object.entries(schema.getTypeMap())) {
    if (name.startsWith('__') || !('getFields' in type)) continue;
    for (const field of Object.values(type.getFields()) as Array<Partial<GraphQLField<unknown, unknown>>>) {
      if (typeof field.resolve === 'function' && field.resolve.name === 'rootFieldResolver') field.resolve = undefined;
    }
  }
  return schema;
}
