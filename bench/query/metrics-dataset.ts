import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { generateEvents, seededRandom } from '../../libs/merchant-metrics/src/testing/generated-events.js';
import { MetricsDelta, type MetricCell } from '../../libs/merchant-metrics/src/projection/metrics-delta.js';
import { merchantMetricsV1 } from '../../libs/merchant-metrics/src/projection/merchant-metrics.projection.js';

export interface DatasetOptions {
  merchants: number;
  events: number;
  from: Date;
  to: Date;
  seed: number;
}

export interface DatasetStats {
  events: number;
  rows: Record<string, number>;
  seconds: number;
}

/** Merchant i's share of the events: 80% small merchants, 20% eight times larger (mean 1). */
function weight(i: number): number {
  return i % 5 === 0 ? 8 / 2.4 : 1 / 2.4;
}

const NO_PAYMENTS: ReadonlyMap<string, number> = new Map();

export function merchantId(i: number): string {
  return `bm-${i}`;
}

const cellLine = (c: MetricCell) =>
  `${c.merchantId}\t${new Date(c.bucket).toISOString()}\t${c.currency}\t${c.paymentMethod}\t${c.storeId}\t${c.completedCount}\t${c.grossAmount}\t${c.refundCount}\t${c.refundAmount}\t${c.failedCount}\n`;

/**
 * Builds the read model of a large synthetic history without going through
 * ingest: events are generated merchant by merchant, folded with the real v1
 * logic (MetricsDelta + merchantMetricsV1), and COPYed into the version's
 * tables, group by group.
 */
export async function loadMetricsDataset(url: string, schema: string, options: DatasetOptions, progress: (line: string) => void): Promise<DatasetStats> {
  const started = Date.now();
  const tables = ['metrics_15m', 'metrics_hourly', 'metrics_daily', 'customers_15m'] as const;
  const clients = await Promise.all(tables.map(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('set synchronous_commit = off');
    return client;
  }));
  const rows: Record<string, number> = Object.fromEntries(tables.map((t) => [t, 0]));
  const random = seededRandom(options.seed);
  const perMerchant = options.events / options.merchants;
  const GROUP = 250;
  let generated = 0;
  for (let first = 0; first < options.merchants; first += GROUP) {
    const texts: string[][] = tables.map(() => []);
    for (let i = first; i < Math.min(options.merchants, first + GROUP); i++) {
      const count = Math.max(1, Math.round(perMerchant * weight(i) * (0.75 + random() * 0.5)));
      const events = generateEvents({
        seed: options.seed * 1_000_003 + i, count, merchants: 1, merchantPrefix: `${merchantId(i)}-x`, from: options.from, to: options.to,
        customersPerMerchant: Math.max(20, Math.round(count / 4)), stores: 1 + (i % 4),
      });
      const delta = new MetricsDelta();
      for (const e of events) merchantMetricsV1.apply(delta, { ...e, merchantId: merchantId(i) }, NO_PAYMENTS);
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
    await Promise.all(tables.map((table, k) =>
      pipeline(Readable.from(texts[k]), clients[k].query(copyFrom(`copy ${schema}.${table} from stdin`)))));
    const merchants = Math.min(options.merchants, first + GROUP);
    if (merchants % 1000 === 0 || merchants === options.merchants) {
      progress(`  ${merchants}/${options.merchants} merchants, ${generated.toLocaleString('en-US')} events, ${Math.round((Date.now() - started) / 1000)} s`);
    }
  }
  await Promise.all(clients.map((c) => c.end()));
  return { events: generated, rows, seconds: (Date.now() - started) / 1000 };
}
