import { MEASURE_COLUMNS } from './measures.js';

/**
 * The tables of the `sketches` layout (merchant-metrics v3): every metric row
 * carries, beside its sums, the sketch of its distinct paying customers
 * (`customers`, libs/sketches; NULL when none), so counting them costs one
 * merge per row read, whatever the events behind it.
 *
 * Rows exist at three UTC grains. A query reads daily rows for whole UTC days,
 * hourly rows for whole hours and 15-minute rows only at the edges that need
 * them (zones with half- and quarter-hour offsets), and of the rollups those
 * with exactly the dimensions it groups by (none, method, store, both): its
 * work follows the buckets and series of its answer, not the events.
 */
export type SketchGrain = '15 minutes' | '1 hour' | '1 day';

export interface SketchTable {
  readonly name: string;
  readonly grain: SketchGrain;
  /** Columns between (merchant_id, bucket) and the measures, in key order. */
  readonly dimensions: readonly string[];
}

export const FULL_DIMENSIONS: readonly string[] = ['currency', 'payment_method', 'store_id'];

export const SKETCH_TABLES: readonly SketchTable[] = [
  { name: 'metrics_15m', grain: '15 minutes', dimensions: FULL_DIMENSIONS },
  { name: 'metrics_hourly', grain: '1 hour', dimensions: FULL_DIMENSIONS },
  { name: 'metrics_daily', grain: '1 day', dimensions: FULL_DIMENSIONS },
  { name: 'methods_hourly', grain: '1 hour', dimensions: ['currency', 'payment_method'] },
  { name: 'methods_daily', grain: '1 day', dimensions: ['currency', 'payment_method'] },
  { name: 'stores_hourly', grain: '1 hour', dimensions: ['currency', 'store_id'] },
  { name: 'stores_daily', grain: '1 day', dimensions: ['currency', 'store_id'] },
  { name: 'totals_hourly', grain: '1 hour', dimensions: ['currency'] },
  { name: 'totals_daily', grain: '1 day', dimensions: ['currency'] },
];

/**
 * The hourly and daily tables a question grouped by `groupBy` reads: the
 * ones with exactly those dimensions, so that it reads O(buckets × series)
 * rows. Edges finer than an hour always come from metrics_15m.
 */
export function rollupsFor(groupBy: readonly string[]): { hourly: string; daily: string } {
  const method = groupBy.includes('PAYMENT_METHOD');
  const store = groupBy.includes('STORE');
  const prefix = method && store ? 'metrics' : method ? 'methods' : store ? 'stores' : 'totals';
  return { hourly: `${prefix}_hourly`, daily: `${prefix}_daily` };
}

/** The table's key columns: merchant, bucket, dimensions. */
export const sketchKey = (t: SketchTable): string[] => ['merchant_id', 'bucket', ...t.dimensions];

/** Column definitions of a sketch table, for CREATE TABLE. */
export function sketchTableColumns(t: SketchTable): string {
  return [
    'merchant_id text collate "C" not null',
    'bucket timestamptz not null',
    ...t.dimensions.map((d) => `${d} text collate "C" not null`),
    ...MEASURE_COLUMNS.map((m) => `${m} bigint not null`),
    'customers bytea',
  ].join(', ');
}

/** All columns of a sketch table, in table order. */
export const sketchTableColumnList = (t: SketchTable): string[] => [...sketchKey(t), ...MEASURE_COLUMNS, 'customers'];

/** Chunk width of the table's hypertable on TimescaleDB: about a few thousand buckets per chunk. */
export const hypertableChunk = (t: SketchTable): string => (t.grain === '1 day' ? '90 days' : '7 days');
