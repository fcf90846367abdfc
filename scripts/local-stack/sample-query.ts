import { signMerchantToken } from '@app/access';

const QUERY = `query Today($merchantId: ID!, $from: DateTime!, $to: DateTime!) {
  merchantMetrics(merchantId: $merchantId, from: $from, to: $to, granularity: DAY, timeZone: "Asia/Tokyo") {
    freshness { asOf lagSeconds version }
    totals { currency transactionCount grossAmount netAmount averageTicket uniqueCustomers }
  }
}`;

export const SAMPLE_MERCHANT = 'm-1001';
/** The sample event's day, 2026-11-20 in Tokyo. */
const VARIABLES = { merchantId: SAMPLE_MERCHANT, from: '2026-11-19T15:00:00Z', to: '2026-11-20T15:00:00Z' };

export function merchantToken(secret: string): Promise<string> {
  return signMerchantToken(secret, { kind: 'merchant', merchantId: SAMPLE_MERCHANT }, { ttlSeconds: 7 * 86_400 });
}

/** Asks GraphQL for the sample merchant's day until the sample event shows (or 15 s pass). */
export async function sampleQuery(queryApiUrl: string, token: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  let last = '';
  while (Date.now() < deadline) {
    const response = await fetch(`${queryApiUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: QUERY, variables: VARIABLES }),
      signal: AbortSignal.timeout(5_000),
    });
    last = (await response.text()).trim();
    if (response.status === 200 && last.includes('"transactionCount"')) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

export function graphqlCurl(queryApiUrl: string, token: string): string {
  return [
    `curl -sS ${queryApiUrl}/graphql \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -H 'Authorization: Bearer ${token}' \\`,
    `  -d '${JSON.stringify({ query: QUERY.replace(/\s+/g, ' '), variables: VARIABLES })}'`,
  ].join('\n');
}

/** The same question over REST (GET /v1/merchants/{merchantId}/metrics); every character of it is safe in a URL as written. */
export function restCurl(queryApiUrl: string, token: string): string {
  const query = `from=${VARIABLES.from}&to=${VARIABLES.to}&granularity=DAY&timeZone=Asia/Tokyo`;
  return [`curl -sS '${queryApiUrl}/v1/merchants/${SAMPLE_MERCHANT}/metrics?${query}' \\`, `  -H 'Authorization: Bearer ${token}'`].join('\n');
}
