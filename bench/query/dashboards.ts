// @ts-expect-error -- the dashboard's browser modules are plain JavaScript, without types
import { BREAKDOWNS, OVERVIEW } from '../../apps/query-api/dashboard/js/api.js';
// @ts-expect-error -- as above
import { comparisonRange, presetRange } from '../../apps/query-api/dashboard/js/ranges.js';
import type { MerchantSkew } from './merchant-skew.js';
import { ZONES } from './query-mix.js';

/** The page's range presets the bench asks for (apps/query-api/dashboard/js/ranges.js). */
export type Preset = 'today' | 'last-7-days' | 'last-30-days' | 'last-90-days' | 'last-12-months';

/** One refresh of the page: its two GraphQL requests, as JSON bodies. */
export interface DashboardRequests {
  /** Cards, chart and freshness: the range by its granularity with compareTo, and the comparison range's totals. */
  overview: string;
  /** Gross volume and transactions by payment method and by store over the range. */
  breakdowns: string;
}

export interface Dashboard extends DashboardRequests {
  merchant: number;
  merchantId: string;
  zone: string;
  preset: Preset;
}

/**
 * What the dashboard sends for a preset in a zone at `now`, with the page's
 * own documents (api.js) and calendar arithmetic (ranges.js), and the
 * variables its refresh() in app.js builds from them: both requests at once,
 * the comparison against the previous period (the page's default).
 */
export function dashboardRequests(merchantId: string, preset: Preset, zone: string, now: Date): DashboardRequests {
  const range = presetRange(preset, zone, now.getTime()) as { from: number; to: number; granularity: string };
  const comparison = comparisonRange(range, 'PREVIOUS_PERIOD', zone) as { from: number; to: number };
  const common = { merchantId, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString(), timeZone: zone };
  return {
    overview: JSON.stringify({
      query: OVERVIEW as string,
      variables: {
        ...common, granularity: range.granularity, compareTo: 'PREVIOUS_PERIOD',
        comparisonFrom: new Date(comparison.from).toISOString(), comparisonTo: new Date(comparison.to).toISOString(),
      },
    }),
    // Today and yesterday are whole days: the page's tables ask for one bucket, not 24.
    breakdowns: JSON.stringify({ query: BREAKDOWNS as string, variables: { ...common, granularity: range.granularity === 'HOUR' ? 'DAY' : range.granularity } }),
  };
}

/** A merchant's zone: the same for all its staff, so their dashboards ask the same questions. */
export function zoneOf(merchant: number): string {
  return ZONES[merchant % ZONES.length];
}

/**
 * `count` open dashboards on the page's default view (the last 30 days by
 * day against the previous 30), one per merchant: the largest merchant's
 * first, then merchants drawn without replacement with the data set's skew
 * (a larger merchant more likely has its page open), all of them once
 * `count` reaches the population. Weighted sampling without replacement by
 * Efraimidis and Spirakis' keys: the `count` largest of u^(1/weight).
 */
export function openDashboards(count: number, skew: MerchantSkew, random: () => number, now: Date, merchantId: (i: number) => string): Dashboard[] {
  const keys = Array.from({ length: skew.merchants }, (_, i) => ({ merchant: i, key: i === 0 ? Infinity : Math.log(random()) / skew.share(i) }));
  keys.sort((a, b) => b.key - a.key);
  return keys.slice(0, Math.min(count, skew.merchants)).map(({ merchant }) => {
    const zone = zoneOf(merchant);
    const preset: Preset = 'last-30-days';
    return { merchant, merchantId: merchantId(merchant), zone, preset, ...dashboardRequests(merchantId(merchant), preset, zone, now) };
  });
}
