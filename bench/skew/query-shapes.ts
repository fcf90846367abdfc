import { addInterval, floorToBucket, type Dimension, type Granularity, type MetricsQuery } from '@app/merchant-metrics';
import { DAY_MS } from './population.js';

/** One of the benchmark's questions, asked of every merchant, zone and version alike. */
export interface QueryShape {
  name: string;
  granularity: Granularity;
  groupBy: Dimension[];
  compare: boolean;
  /** [from, to) ending at the data set's end. */
  range(end: number, zone: string): [number, number];
}

const HOUR_MS = 3_600_000;

/** The query limits every question is read with (bench:skew and its profile alike). */
export const SKEW_LIMITS = { maxBuckets: 1000, maxRangeDays: 400 };

const BASE: Array<Omit<QueryShape, 'compare'>> = [
  { name: '30 d by DAY, all metrics', granularity: 'DAY', groupBy: [], range: (end) => [end - 30 * DAY_MS, end] },
  {
    name: '12 months by MONTH', granularity: 'MONTH', groupBy: [],
    // The current (partial) month and the eleven before it.
    range: (end, zone) => [addInterval(floorToBucket(end - 1, 'MONTH', zone), 'MONTH', -11, zone), end],
  },
  { name: '24 h by HOUR × method', granularity: 'HOUR', groupBy: ['PAYMENT_METHOD'], range: (end) => [end - 24 * HOUR_MS, end] },
  { name: '90 d by WEEK × store', granularity: 'WEEK', groupBy: ['STORE'], range: (end) => [end - 90 * DAY_MS, end] },
];

/** Each question without and with the previous period beside it. */
export const SHAPES: QueryShape[] = BASE.flatMap((shape) => [
  { ...shape, compare: false },
  { ...shape, name: `${shape.name} + prev`, compare: true },
]);

export function metricsQuery(shape: QueryShape, merchantId: string, end: number, timeZone: string): MetricsQuery {
  const [from, to] = shape.range(end, timeZone);
  return {
    merchantId, from: new Date(from), to: new Date(to), granularity: shape.granularity, timeZone, groupBy: shape.groupBy,
    ...(shape.compare ? { compareTo: 'PREVIOUS_PERIOD' as const } : {}),
  };
}
