/**
 * Signing secrets that appear in this repository (defaults, tests,
 * examples): anyone can read them, so a production process refuses each of
 * them. `public-secrets.spec.ts` scans the repository and fails when a secret
 * literal is added without being listed here.
 */
export const PUBLIC_SECRETS: ReadonlySet<string> = new Set([
  // The development default of MERCHANT_JWT_SECRET (query API, npm start, ops).
  'dev-only-merchant-jwt-secret-not-for-production',
  // docker-compose.yml's default until it required one (2026-12).
  'compose-dev-only-merchant-jwt-secret',
  // Tests.
  'query-api-test-secret-0123456789abcdef',
  'reprocessing-e2e-secret-0123456789ab',
  'e2e-merchant-jwt-secret-0123456789',
  'a-test-secret-that-is-long-enough-0123456789',
  'a-test-secret-of-at-least-32-characters',
  'another-secret-that-is-long-enough-012345',
  'someone-elses-secret-0123456789abcdefgh',
  'e2e-least-privilege-jwt-secret-0123456789',
  'query-api-log-test-secret-0123456789abcdef',
  'e2e-dashboard-jwt-secret-0123456789',
]);

export function isPublicSecret(secret: string): boolean {
  return PUBLIC_SECRETS.has(secret);
}
