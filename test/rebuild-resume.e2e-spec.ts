import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { eventually } from '@app/testing';
import { startCommandApiHarness, type CommandApiHarness } from '../apps/command-api/src/testing/command-api-harness.js';
import { sendEvents } from '../apps/projector/src/testing/send-events.js';
import { generateEvents } from '../libs/merchant-metrics/src/testing/index.js';
import { ops, startOps } from './support/ops-cli.js';

const TABLES = {
  metrics_15m: 'merchant_id, bucket, currency, payment_method, store_id, completed_count, gross_amount, refund_count, refund_amount, failed_count',
  metrics_hourly: 'merchant_id, bucket, currency, payment_method, store_id, completed_count, gross_amount, refund_count, refund_amount, failed_count',
  metrics_daily: 'merchant_id, bucket, currency, payment_method, store_id, completed_count, gross_amount, refund_count, refund_amount, failed_count',
  customers_15m: 'merchant_id, bucket, currency, payment_method, store_id, customer_id',
  payments: 'merchant_id, payment_id, bucket',
};

describe('projections rebuild killed with SIGKILL', () => {
  let h: CommandApiHarness;
  let pool: pg.Pool;

  beforeAll(async () => {
    h = await startCommandApiHarness();
    pool = createPool({ connectionString: h.database.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await h?.close();
  });

  /** Every row of every table of v2, as text, in a fixed order. */
  const dump = async () => {
    const out: Record<string, string[]> = {};
    for (const [table, columns] of Object.entries(TABLES)) {
      const { rows } = await pool.query(`select concat_ws('|', ${columns}) as row from rm_merchant_metrics_v2.${table} order by 1`);
      out[table] = rows.map((r) => r.row as string);
    }
    return out;
  };
  const applied = async () =>
    Number((await pool.query(`select coalesce(sum(events), 0) as n from projections.checkpoints where version = 2`)).rows[0].n);

  it('resumes where it stopped and ends with exactly the tables of an uninterrupted run', async () => {
    const events = generateEvents({
      seed: 31, count: 20_000, merchants: 40, merchantPrefix: 'rs-', from: new Date('2026-09-01T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z'),
    });
    // Refunds of earlier payments, so v2's payment lookups across batches matter too.
    for (let i = 0; i < 2000; i += 10) {
      const sale = events[i];
      if (sale.paymentCompleted) {
        events.push({
          eventId: crypto.randomUUID(), merchantId: sale.merchantId, occurredAt: '2026-11-02T12:00:00Z',
          paymentRefunded: { paymentId: sale.paymentCompleted.paymentId, refundId: `r-${i}`, storeId: sale.paymentCompleted.storeId, method: sale.paymentCompleted.method, amount: { currency: sale.paymentCompleted.amount.currency, minorUnits: '1' } },
        });
      }
    }
    expect(await sendEvents(h.url, h.key, events, 1000)).toBe(events.length);
    const env = { DATABASE_URL: h.database.url };

    // Chunks of 300 (the first inserts, the others add to cells); the clean run below folds each partition at once.
    const small = ['--chunk', '300'];
    const interrupted = startOps(['projections', 'rebuild', 'merchant-metrics', '--version', '2', ...small], env);
    await eventually(async () => expect(await applied()).toBeGreaterThan(3000), 60_000, 5);
    interrupted.child.kill('SIGKILL');
    await interrupted.result;
    const atKill = await applied();
    expect(atKill).toBeLessThan(events.length);

    const resumed = await ops(['projections', 'rebuild', 'merchant-metrics', '--version', '2', ...small], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('resuming merchant-metrics v2 (building)');
    expect(await applied()).toBe(events.length);
    const afterResume = await dump();

    const dropped = await ops(['projections', 'drop', 'merchant-metrics', '--version', '2'], env);
    expect(dropped.code, dropped.stderr).toBe(0);
    const clean = await ops(['projections', 'rebuild', 'merchant-metrics', '--version', '2'], env);
    expect(clean.code, clean.stderr).toBe(0);
    const uninterrupted = await dump();

    expect(afterResume.metrics_15m.length).toBeGreaterThan(1000);
    expect(afterResume).toEqual(uninterrupted);
  });
});
