import { describe, expect, it } from 'vitest';
import type { FieldNode, FragmentDefinitionNode, OperationDefinitionNode } from 'graphql';
import { parse } from 'graphql/index.js';
import { selects } from './selection.js';

function infoOf(query: string) {
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode;
  const fragments = Object.fromEntries(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === 'FragmentDefinition').map((f) => [f.name.value, f]),
  );
  return { fieldNodes: [operation.selectionSet.selections[0] as FieldNode], fragments };
}

describe('selects', () => {
  it('finds a field at any depth, through fragments and inline fragments', () => {
    expect(selects(infoOf('{ m { totals { currency uniqueCustomers } } }'), 'uniqueCustomers')).toBe(true);
    expect(selects(infoOf('{ m { series { points { values { uniqueCustomers } } } } }'), 'uniqueCustomers')).toBe(true);
    expect(selects(infoOf('{ m { totals { ...V } } } fragment V on MetricValues { uniqueCustomers }'), 'uniqueCustomers')).toBe(true);
    expect(selects(infoOf('{ m { totals { ... on MetricValues { uniqueCustomers } } } }'), 'uniqueCustomers')).toBe(true);
    expect(selects(infoOf('{ m { totals { currency @skip(if: true) uniqueCustomers @skip(if: true) } } }'), 'uniqueCustomers')).toBe(true);
  });

  it('says no when the field is not asked for', () => {
    expect(selects(infoOf('{ m { freshness { asOf } totals { currency grossAmount } } }'), 'uniqueCustomers')).toBe(false);
    expect(selects(infoOf('{ m { totals { ...V } } } fragment V on MetricValues { currency }'), 'uniqueCustomers')).toBe(false);
  });

  it('answers again from its cache for the same field node', () => {
    const info = infoOf('{ m { totals { uniqueCustomers } } }');
    expect(selects(info, 'uniqueCustomers')).toBe(true);
    expect(selects({ ...info, fragments: {} }, 'uniqueCustomers')).toBe(true);
  });
});
