/** Injection tokens for values that are not classes. */
export const PG_POOL = Symbol('QueryPool');
