// The page's two GraphQL operations. Each stays well inside the limits the API
// sets for everyone (complexity 500: two merchantMetrics fields cost about 250;
// depth 5; no aliases beyond two), so the page gets no privilege of its own.

const VALUES = 'currency transactionCount grossAmount refundCount refundAmount netAmount failedCount failureRate averageTicket uniqueCustomers uniqueCustomersExact uniqueCustomersStandardError';
const POINT_VALUES = 'grossAmount netAmount refundAmount transactionCount failureRate averageTicket uniqueCustomers';

/** Cards, chart and freshness: the range with its comparison per bucket, and the comparison range's totals. */
export const OVERVIEW = `query DashboardOverview($merchantId: ID!, $from: DateTime!, $to: DateTime!, $granularity: Granularity!, $timeZone: String!, $compareTo: Comparison!, $comparisonFrom: DateTime!, $comparisonTo: DateTime!) {
  current: merchantMetrics(merchantId: $merchantId, from: $from, to: $to, granularity: $granularity, timeZone: $timeZone, compareTo: $compareTo) {
    freshness { asOf lagSeconds version }
    totals { ${VALUES} }
    series { currency points { start values { ${POINT_VALUES} } previous { ${POINT_VALUES} } } }
  }
  comparison: merchantMetrics(merchantId: $merchantId, from: $comparisonFrom, to: $comparisonTo, granularity: $granularity, timeZone: $timeZone) {
    totals { ${VALUES} }
  }
}`;

/** The tables: gross volume and transactions per payment method and per store, summed over the range's buckets. */
export const BREAKDOWNS = `query DashboardBreakdowns($merchantId: ID!, $from: DateTime!, $to: DateTime!, $granularity: Granularity!, $timeZone: String!) {
  byMethod: merchantMetrics(merchantId: $merchantId, from: $from, to: $to, granularity: $granularity, timeZone: $timeZone, groupBy: [PAYMENT_METHOD]) {
    series { currency paymentMethod points { values { grossAmount transactionCount } } }
  }
  byStore: merchantMetrics(merchantId: $merchantId, from: $from, to: $to, granularity: $granularity, timeZone: $timeZone, groupBy: [STORE]) {
    series { currency storeId points { values { grossAmount transactionCount } } }
  }
}`;

/** The token was refused: the page returns to sign-in. */
export class SignInRequired extends Error {}

export async function graphql(token, query, variables) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    cache: 'no-store',
    credentials: 'omit',
  });
  const body = await response.json().catch(() => null);
  const message = body?.errors?.map((e) => e.message).join('; ');
  if (response.status === 401) throw new SignInRequired(message ?? 'the token was refused');
  if (!body?.data) throw new Error(message ?? `the API answered HTTP ${response.status}`);
  return body.data;
}
