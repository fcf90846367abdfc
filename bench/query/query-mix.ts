/** The merchants' questions bench:query asks, as GraphQL. */
export const METRICS_QUERY = `query Metrics($merchantId: ID!, $from: DateTime!, $to: DateTime!, $granularity: Granularity!, $timeZone: String, $groupBy: [Dimension!]) {
  merchantMetrics(merchantId: $merchantId, from: $from, to: $to, granularity: $granularity, timeZone: $timeZone, groupBy: $groupBy) {
    freshness { asOf lagSeconds version }
    totals { currency transactionCount grossAmount refundAmount netAmount failedCount averageTicket uniqueCustomers }
    series {
      currency paymentMethod storeId
      points { start values { transactionCount grossAmount refundCount refundAmount netAmount failedCount averageTicket uniqueCustomers } }
    }
  }
}`;

export type Granularity = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';

export interface QueryShape {
  name: string;
  granularity: Granularity;
  /** How far back from the end of the data set the range starts. */
  days: number;
  groupBy: string[];
}

export const SHAPES: QueryShape[] = [
  { name: '24h hourly', granularity: 'HOUR', days: 1, groupBy: [] },
  { name: '24h hourly by method', granularity: 'HOUR', days: 1, groupBy: ['PAYMENT_METHOD'] },
  { name: '90d daily', granularity: 'DAY', days: 90, groupBy: [] },
  { name: '90d daily by method', granularity: 'DAY', days: 90, groupBy: ['PAYMENT_METHOD'] },
  { name: '13mo monthly', granularity: 'MONTH', days: 365, groupBy: [] },
  { name: '13mo monthly by store', granularity: 'MONTH', days: 365, groupBy: ['STORE'] },
];

export const ZONES = ['UTC', 'America/New_York', 'Asia/Tokyo', 'Asia/Kolkata', 'Europe/Berlin'];

export interface QueryVariables {
  merchantId: string;
  from: string;
  to: string;
  granularity: Granularity;
  timeZone: string;
  groupBy: string[];
}

export function variablesFor(shape: QueryShape, merchantId: string, end: Date, timeZone: string): QueryVariables {
  const to = end.toISOString();
  const from = new Date(end.getTime() - shape.days * 86_400_000).toISOString();
  return { merchantId, from, to, granularity: shape.granularity, timeZone, groupBy: shape.groupBy };
}
