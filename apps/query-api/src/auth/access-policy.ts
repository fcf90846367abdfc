import type { MerchantPrincipal } from '@app/access';
import { forbidden } from '../graphql/graphql-errors.js';

/**
 * Why this principal may not read this merchant, or undefined when it may: a
 * merchant reads only itself, ops reads anyone. The message does not say
 * whether the other merchant exists, so tokens cannot probe for merchant ids.
 * GraphQL (assertMayRead) and REST (403) answer from this one rule.
 */
export function readRefusal(principal: MerchantPrincipal, merchantId: string): string | undefined {
  if (principal.kind === 'ops' || principal.merchantId === merchantId) return undefined;
  return `this token may read merchant "${principal.merchantId}" only`;
}

/** readRefusal as a GraphQL FORBIDDEN error. */
export function assertMayRead(principal: MerchantPrincipal, merchantId: string): void {
  const refusal = readRefusal(principal, merchantId);
  if (refusal !== undefined) throw forbidden(refusal);
}
