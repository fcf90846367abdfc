import { PROJECTION_NAME, merchantMetricsProjection } from '@app/merchant-metrics';
import { goLiveIfFirst, installVersion } from '@app/projections';
import { insertCells, type Cell } from '../../../../../libs/merchant-metrics/src/query/testing/metrics-fixtures.js';
import type { QueryApiHarness } from '../../testing/query-api-harness.js';

export interface RestResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed, when it is JSON. */
  body: unknown;
}

/** GETs (or another method) a path of the query API; `token: null` sends no Authorization header. */
export async function rest(
  h: QueryApiHarness,
  path: string,
  options: { token?: string | null; method?: string; headers?: Record<string, string> } = {},
): Promise<RestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? await h.token({ kind: 'ops' }) : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${h.url}${path}`, { method: options.method ?? 'GET', headers });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** The metrics path of a merchant with a query string; a list value is the parameter repeated. */
export function metricsPath(merchantId: string, parameters: Record<string, string | string[] | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    for (const one of value === undefined ? [] : Array.isArray(value) ? value : [value]) query.append(name, one);
  }
  const text = query.toString();
  return `/v1/merchants/${encodeURIComponent(merchantId)}/metrics${text ? `?${text}` : ''}`;
}

export const MERCHANT = 'm-rest';

/**
 * 15-minute rows around the start of daylight saving time in New York
 * (2026-03-08, 02:00 EST becomes 03:00 EDT: a 23-hour local day), in two
 * currencies, methods and stores, one a year earlier, one of another merchant.
 */
export const REST_CELLS: Cell[] = [
  { merchant: MERCHANT, bucket: '2025-03-08T15:00:00Z', currency: 'USD', method: 'CARD', store: 's-1', completed: 4, gross: 4000, customers: ['c-9'] },
  { merchant: MERCHANT, bucket: '2026-03-07T12:00:00Z', currency: 'USD', method: 'CARD', store: 's-1', completed: 2, gross: 3000, failed: 1, customers: ['c-1', 'c-2'] },
  // 01:30 EST on the 8th.
  { merchant: MERCHANT, bucket: '2026-03-08T06:30:00Z', currency: 'USD', method: 'CARD', store: 's-1', completed: 1, gross: 1000, customers: ['c-1'] },
  // 03:15 EDT on the 8th, just after the change.
  { merchant: MERCHANT, bucket: '2026-03-08T07:15:00Z', currency: 'USD', method: 'WALLET', store: 's-2', completed: 1, gross: 500, refunds: 1, refunded: 200, customers: ['c-3'] },
  // 23:45 EDT, still the 8th in New York, already the 9th in UTC.
  { merchant: MERCHANT, bucket: '2026-03-09T03:45:00Z', currency: 'USD', method: 'CARD', store: 's-2', completed: 1, gross: 1001, customers: ['c-1'] },
  // Midnight EDT: the 9th.
  { merchant: MERCHANT, bucket: '2026-03-09T04:00:00Z', currency: 'USD', method: 'CARD', store: 's-1', completed: 3, gross: 999, customers: ['c-4'] },
  { merchant: MERCHANT, bucket: '2026-03-10T15:00:00Z', currency: 'JPY', method: 'QR', store: 's-1', completed: 1, gross: 5000, failed: 2, customers: ['c-5'] },
  { merchant: 'm-other', bucket: '2026-03-08T12:00:00Z', currency: 'EUR', method: 'CARD', store: 's-9', completed: 7, gross: 7000, customers: ['c-50'] },
];

/** Version 1 live, filled with `cells` by plain SQL, so the expected answers are computed by hand. */
export async function fillReadModel(h: QueryApiHarness, cells: Cell[] = REST_CELLS): Promise<void> {
  const client = await h.pool.connect();
  try {
    await installVersion(client, merchantMetricsProjection, { version: 1, partitions: 16, codeRevision: 'test' });
    await goLiveIfFirst(client, PROJECTION_NAME, 1);
    await insertCells(client, 'rm_merchant_metrics_v1', cells);
  } finally {
    client.release();
  }
}
