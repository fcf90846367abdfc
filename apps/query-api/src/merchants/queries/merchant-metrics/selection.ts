import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';

const cache = new WeakMap<FieldNode, Map<string, boolean>>();

/**
 * Whether the operation asks for `field` anywhere below the resolved field
 * (through fragments too). Conservative: a field under @skip/@include counts
 * as asked for. Cached per field node: mercurius reuses parsed documents.
 */
export function selects(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, field: string): boolean {
  const first = info.fieldNodes[0];
  const cached = info.fieldNodes.length === 1 && first !== undefined ? cache.get(first) : undefined;
  const known = cached?.get(field);
  if (known !== undefined) return known;
  const fragments = info.fragments as Record<string, FragmentDefinitionNode | undefined>;
  const visited = new Set<string>();
  const search = (set: SelectionSetNode | undefined): boolean => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === 'Field') {
        if (selection.name.value === field || search(selection.selectionSet)) return true;
      } else if (selection.kind === 'InlineFragment') {
        if (search(selection.selectionSet)) return true;
      } else if (!visited.has(selection.name.value)) {
        visited.add(selection.name.value);
        const fragment = fragments[selection.name.value];
        // An unknown fragment cannot pass validation; if it ever did, assume the field is asked for.
        if (fragment === undefined || search(fragment.selectionSet)) return true;
      }
    }
    return false;
  };
  const found = info.fieldNodes.some((node) => search(node.selectionSet));
  if (info.fieldNodes.length === 1 && first !== undefined) {
    if (cached === undefined) cache.set(first, new Map([[field, found]]));
    else cached.set(field, found);
  }
  return found;
}
