import type { DocumentNode } from 'graphql';

const operations = new WeakMap<DocumentNode, number>();

/**
 * A mercurius preExecution hook that keeps documents holding several
 * operations away from graphql-jit. Mercurius caches a compiled query per
 * query text, compiled for the operationName of the request that triggered the
 * compilation, and later runs it whatever operationName a request names.
 * Returning the document as "modified" makes mercurius execute it with
 * graphql-js, which honours operationName, and never compile it.
 */
export async function interpretMultiOperationDocuments(_schema: unknown, document: DocumentNode): Promise<{ document: DocumentNode } | undefined> {
  let count = operations.get(document);
  if (count === undefined) {
    count = document.definitions.filter((d) => d.kind === 'OperationDefinition').length;
    operations.set(document, count);
  }
  return count > 1 ? { document } : undefined;
}
