import type { MerchantPrincipal } from '@app/access';
import { forbidden } from '../graphql/graphql-errors.js';

/**
 * A merchant reads only itself; ops reads anyone. The message does not say
 * whether the other merchant exists, so tokens cannot probe for merchant ids.
 */
export function assertMayRead(principal: MerchantPrincipal, merchantId: string): void {
  if (principal.kind === 'ops') return;
  if (principal.merchantId !== merchantId) {
    throw forbidden(`this token may read merchant "${principal.merchantId}" only`);
  }
}
