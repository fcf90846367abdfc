import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { partitionOf } from '@app/event-store';
import { PROJECTION_NAME, UPSERT_MERCHANT_WATERMARKS } from '@app/merchant-metrics';
import { generateEvents, seededRandom } from '../../libs/merchant-metrics/src/testing/generated-events.js';
import { MetricsDelta, type MetricCell } from '../../libs/merchant-metrics/src/projection/metrics-delta.js';
import { merchantMetricsV1 } from '../../libs/merchant-metrics/src/projection/merchant-metrics.projection.js';

/**
 * How merchant sizes are spread. `zipf`: merchant i (rank i + 1) has a share
 * proportional to (i + 1)^-1.1, as bench:skew's population, so bm-0 is the
 * largest, with about a sixth of the events at 10,000 merchants. `tiers`: 80%
 * small merchants and 20% eight times larger (bench:query's data set until
 * issue 13; its reused data sets stay as they were).
 */
export type Population = 'zipf' | 'tiers';

export const ZIPF_EXPONENT = 1.1;

export interface DatasetOptions {
  merchants: number;
  events: number;
  from: Date;
  to: Date;
  seed: number;
  population: Population;
}

export interface DatasetStats {
  events: number;
  rows: Record<string, number>;
  seconds: number;
}

/** The event store's partitions the bench's version is installed with: merchant watermarks are positions in them. */
export const STORE_PARTITIONS = 16;

/** The read-model tables the loader fills (v1, native engine). */
export const DATASET_TABLES = ['metrics_15m', 'metrics_hourly', 'metrics_daily', 'customers_15m'] as const;

const NO_PAYMENTS: ReadonlyMap<string, number> = new Map();

/** A large merchant's events are generated this many at a time, so that no year of them is ever in memory at once. */
const GENERATION_CHUNK = 200_000;

export function merchantId(i: number): string {
  return `bm-${i}`;
}

/**
 * Each merchant's events, in merchant order: what the loader generates, and
 * what the load generators draw merchants by (the same skew as the data).
 * For `tiers` it replays the loader's own random sequence, so a data set
 * loaded before this function existed gets the same counts.
 */
export function merchantEventCounts(options: Pick<DatasetOptions, 'merchants' | 'events' | 'seed' | 'population'>): number[] {
  const counts: number[] = [];
  if (options.population === 'zipf') {
    let sum = 0;
    for (let i = options.merchants; i >= 1; i--) sum += Math.pow(i, -ZIPF_EXPONENT);
    for (let i = 0; i < options.merchants; i++) counts.push(Math.max(1, Math.round((options.events * Math.pow(i + 1, -ZIPF_EXPONENT)) / sum)));
    return counts;
  }
  const random = seededRandom(options.seed);
  const perMerchant = options.events / options.merchants;
  for (let i = 0; i < options.merchants; i++) {
    // 80% small merchants, 20% eight times larger (mean 1), each ±25%.
    const weight = i % 5 === 0 ? 8 / 2.4 : 1 / 2.4;
    counts.push(Math.max(1, Math.round(perMerchant * weight * (0.75 + random() * 0.5))));
  }
  return counts;
}

/** What one merchant's events are drawn from, in the data set and in the bench's ingest alike. */
export interface MerchantShape {
  stores: number;
  customers: number;
}

export function merchantShapes(options: DatasetOptions, counts: readonly number[] = merchantEventCounts(options)): MerchantShape[] {
  return counts.map((count, i) => ({
    // Zipf: 40 stores for the largest, fewer for smaller ones (as bench:skew's population); tiers: 1 to 4.
    stores: options.population === 'zipf' ? Math.min(40, Math.max(1, Math.round(40 * Math.pow(count / counts[0], 0.45)))) : 1 + (i % 4),
    customers: Math.max(20, Math.round(count / 4)),
  }));
}

const cellLine = (c: MetricCell) =>
  `${c.merchantId}\t${new Date(c.bucket).toISOString()}\t${c.currency}\t${c.paymentMethod}\t${c.storeId}\t${c.completedCount}\t${c.grossAmount}\t${c.refundCount}\t${c.refundAmount}\t${c.failedCount}\n`;

/**
 * Builds the read model of a large synthetic history without going through
 * ingest: events are generated merchant by merchant, folded with the real v1
 * logic (MetricsDelta + merchantMetricsV1), and COPYed into the version's
 * tables, group by group. The version then holds them as if it had applied
 * them from the store: writeMerchantWatermarks gives every merchant its
 * watermark and every partition its checkpoint.
 */
export async function loadMetricsDataset(url: string, schema: string, options: DatasetOptions, progress: (line: string) => void): Promise<DatasetStats> {
  const started = Date.now();
  const clients = await Promise.all(DATASET_TABLES.map(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('set synchronous_commit = off');
    return client;
  }));
  const rows: Record<string, number> = Object.fromEntries(DATASET_TABLES.map((t) => [t, 0]));
  const counts = merchantEventCounts(options);
  const shapes = merchantShapes(options, counts);
  const GROUP = 250;
  let generated = 0;
  for (let first = 0; first < options.merchants; first += GROUP) {
    const texts: string[][] = DATASET_TABLES.map(() => []);
    for (let i = first; i < Math.min(options.merchants, first + GROUP); i++) {
      const count = counts[i];
      const delta = new MetricsDelta();
      for (let done = 0, chunk = 0; done < count; done += GENERATION_CHUNK, chunk++) {
        const events = generateEvents({
          seed: options.seed * 1_000_003 + i + chunk * 7_919, count: Math.min(GENERATION_CHUNK, count - done), merchants: 1, merchantPrefix: `${merchantId(i)}-x`,
          from: options.from, to: options.to, customersPerMerchant: shapes[i].customers, stores: shapes[i].stores,
        });
        for (const e of events) merchantMetricsV1.apply(delta, { ...e, merchantId: merchantId(i) }, NO_PAYMENTS);
      }
      generated += count;
      const hourly = delta.rollUp(3_600_000);
      const daily = delta.rollUp(86_400_000);
      texts[0].push([...delta.cells.values()].map(cellLine).join(''));
      texts[1].push(hourly.map(cellLine).join(''));
      texts[2].push(daily.map(cellLine).join(''));
      texts[3].push([...delta.customers.values()].map((c) =>
        `${c.merchantId}\t${new Date(c.bucket).toISOString()}\t${c.currency}\t${c.paymentMethod}\t${c.storeId}\t${c.customerId}\n`).join(''));
      rows.metrics_15m += delta.cells.size;
      rows.metrics_hourly += hourly.length;
      rows.metrics_daily += daily.length;
      rows.customers_15m += delta.customers.size;
    }
    // The four tables load side by side, one COPY each per group of merchants.
    await Promise.all(DATASET_TABLES.map((table, k) =>
      pipeline(Readable.from(texts[k]), clients[k].query(copyFrom(`copy ${schema}.${table} from stdin`)))));
    const merchants = Math.min(options.merchants, first + GROUP);
    if (merchants % 1000 === 0 || merchants === options.merchants) {
      progress(`  ${merchants}/${options.merchants} merchants, ${generated.toLocaleString('en-US')} events, ${Math.round((Date.now() - started) / 1000)} s`);
    }
  }
  await Promise.all(clients.map((c) => c.end()));
  await writeMerchantWatermarks(url, schema, 1, options);
  return { events: generated, rows, seconds: (Date.now() - started) / 1000 };
}

/**
 * What applyEvents would have left had the data set come through the store:
 * merchant i's events take the next positions of its partition (merchants in
 * order), its watermark is the last of them, and each partition's checkpoint
 * its last position. Without watermarks no answer is cached (a merchant
 * without a row has no known watermark); without the checkpoints, the bench's
 * ingest would give positions below the watermarks, which never move them.
 */
export async function writeMerchantWatermarks(url: string, schema: string, version: number, options: DatasetOptions): Promise<void> {
  const counts = merchantEventCounts(options);
  const heads = new Array<number>(STORE_PARTITIONS).fill(0);
  const byPartition = heads.map(() => ({ merchants: [] as string[], positions: [] as number[] }));
  counts.forEach((count, i) => {
    const p = partitionOf(merchantId(i), STORE_PARTITIONS);
    heads[p] += count;
    byPartition[p].merchants.push(merchantId(i));
    byPartition[p].positions.push(heads[p]);
  });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    for (let p = 0; p < STORE_PARTITIONS; p++) {
      await client.query(UPSERT_MERCHANT_WATERMARKS(schema), [p, byPartition[p].merchants, byPartition[p].positions]);
      await client.query(
        `update projections.checkpoints set position = greatest(position, $4), events = greatest(events, $4), updated_at = now()
         where projection = $1 and version = $2 and partition = $3`,
        [PROJECTION_NAME, version, p, heads[p]],
      );
    }
    await client.query('commit');
  } finally {
    await client.end();
  }
}

/**
 * Removes what an earlier run's ingest added (its events occur after the data
 * set's end, which is a UTC midnight, so every row of theirs, 15-minute, hourly
 * or daily, has a bucket at or after it): a reused data set is then the one
 * loaded. Watermarks and checkpoints stay where that ingest left them, as a
 * projector's would.
 */
export async function removeRowsAfter(url: string, schema: string, end: Date): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let removed = 0;
    for (const table of DATASET_TABLES) {
      const result = await client.query(`delete from ${schema}.${table} where bucket >= $1`, [end]);
      removed += result.rowCount ?? 0;
    }
    return removed;
  } finally {
    await client.end();
  }
}
