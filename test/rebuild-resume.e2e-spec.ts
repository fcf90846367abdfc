import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '@app/database';
import { eventually } from '@app/testing';
import { startCommandApiHarness, type CommandApiHarness } from '../apps/command-api/src/testing/command-api-harness.js';
import { sendEvents } from '../apps/projector/src/testing/send-events.js';
import { generateEvents, seededRandom } from '../libs/merchant-metrics/src/testing/index.js';
import { ops, startOps, type RunningCli } from './support/ops-cli.js';

const TABLES = {
  metrics_15m: 'merchant_id, bucket, currency, payment_method, store_id, completed_count, gross_amount, refund_count, refund_amount, failed_count',
  metrics_hourly: 'merchant_id, bucket, currency, payment_method, store_id, completed_count, gross_amount, refund_count, refund_amount, failed_count',
  metrics_daily: 'merchant_id, bucket, currency, payment_method, store_id, completed_count, gross_amount, refund_count, refund_amount, failed_count',
  customers_15m: 'merchant_id, bucket, currency, payment_method, store_id, customer_id',
  payments: 'merchant_id, payment_id, bucket',
};

/**
 * Events of a partition per transaction. The store's ~1,400 events a partition
 * make several chunks each: the first (plain inserts, then the partition's
 * keys), then the ones that add to cells (INSERT … ON CONFLICT).
 */
const CHUNK = 300;
/** Kills land no later than this many events before the end, so that there is always something left to resume. */
const END_MARGIN = 6 * CHUNK;

/** REBUILD_RESUME_SEED replays a failed run's interruption points; by default each run draws new ones. */
function seedFromEnv(): number {
  const raw = process.env.REBUILD_RESUME_SEED;
  if (raw === undefined || raw === '') return Math.floor(Math.random() * 2 ** 31);
  if (!/^\d+$/.test(raw)) throw new Error(`REBUILD_RESUME_SEED must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

describe('projections rebuild interrupted (SIGKILL, Ctrl-C) and rerun', () => {
  const seed = seedFromEnv();
  const random = seededRandom(seed);
  let h: CommandApiHarness;
  let pool: pg.Pool;
  let env: Record<string, string>;
  let total = 0;
  /** Events applied when every partition's first chunk has committed: the keys come next. */
  let firstChunks = 0;
  let reference: Record<string, string[]>;

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
  const status = async () =>
    (await pool.query<{ status: string }>(`select status from projections.versions where projection = 'merchant-metrics' and version = 2`)).rows[0]?.status;
  /** The tables' own keys are added last of all (the partitions' come with their first chunks). */
  const tableKeys = async () =>
    Number((await pool.query(
      `select count(*) as n from pg_constraint where contype = 'p' and conrelid = any($1::regclass[])`,
      [Object.keys(TABLES).map((t) => `rm_merchant_metrics_v2.${t}`)],
    )).rows[0].n);
  const rebuild = (extra: string[] = []) => ['projections', 'rebuild', 'merchant-metrics', '--version', '2', '--chunk', String(CHUNK), ...extra];
  const drop = async () => {
    const dropped = await ops(['projections', 'drop', 'merchant-metrics', '--version', '2'], env);
    expect(dropped.code, dropped.stderr).toBe(0);
  };
  /** Starts a build and returns it once `threshold` events are committed: polled every few milliseconds, so the signal lands within a chunk or so. */
  const startUntil = async (threshold: number): Promise<RunningCli> => {
    const running = startOps(rebuild(), env);
    let exited = false;
    void running.result.then(() => { exited = true; });
    await eventually(async () => {
      if (!exited) expect(await applied()).toBeGreaterThanOrEqual(threshold);
    }, 60_000, 2);
    if (exited) throw new Error(`the build ended before ${threshold} events were applied (seed ${seed})`);
    return running;
  };

  beforeAll(async () => {
    h = await startCommandApiHarness();
    pool = createPool({ connectionString: h.database.url, max: 2 });
    env = { DATABASE_URL: h.database.url };
    const events = generateEvents({
      seed: 31, count: 20_000, merchants: 40, merchantPrefix: 'rs-', from: new Date('2026-09-01T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z'),
    });
    // Refunds of earlier payments, so v2's payment lookups across chunks matter too.
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
    total = events.length;
    const { rows } = await pool.query<{ n: string; chunks: string }>(
      `select sum(least(head, $1)) as n, sum(ceil(head::numeric / $1)) as chunks from event_store.partition_heads`, [CHUNK],
    );
    firstChunks = Number(rows[0].n);
    // Several chunks a partition on average, so that most of the build adds to cells already there.
    expect(Number(rows[0].chunks)).toBeGreaterThan(3 * 16);

    const clean = await ops(rebuild(), env);
    expect(clean.code, clean.stderr).toBe(0);
    expect(await applied()).toBe(total);
    reference = await dump();
    expect(reference.metrics_15m.length).toBeGreaterThan(1000);
    await drop();
  }, 120_000);
  afterAll(async () => {
    await pool?.end();
    await h?.close();
  });

  it('killed with SIGKILL at a random point, resumes where it stopped and ends with exactly the tables of an uninterrupted run', async () => {
    // A point on the build's course: the first chunks, the keys added after them (given a tenth of
    // the course, though they take milliseconds), then the chunks that add to cells.
    const keysWidth = Math.round(total / 10);
    const draw = Math.floor(random() * (total - END_MARGIN + keysWidth));
    const [aimed, threshold]: [string, number] = draw < firstChunks ? ['the first chunks', Math.max(1, draw)]
      : draw < firstChunks + keysWidth ? ['the keys', firstChunks]
      : ['the later chunks', draw - keysWidth];
    const interrupted = await startUntil(threshold);
    interrupted.child.kill('SIGKILL');
    await interrupted.result;
    const atKill = await applied();
    const landed = atKill < firstChunks ? 'the first chunks' : (await tableKeys()) < Object.keys(TABLES).length ? 'the keys' : 'the later chunks';
    console.info(`rebuild-resume: seed ${seed} (REBUILD_RESUME_SEED=${seed} replays it): aimed at ${aimed}, killed at ${atKill} of ${total} events applied, in ${landed}`);
    expect(atKill).toBeLessThan(total);
    expect(await status()).toBe('building');

    const resumed = await ops(rebuild(), env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('resuming merchant-metrics v2 (building)');
    expect(await applied()).toBe(total);
    expect(await dump()).toEqual(reference);
    await drop();
  });

  it('stopped with Ctrl-C, finishes the chunks in flight, says how to resume, and a rerun ends with exactly the same tables', async () => {
    const threshold = 1 + Math.floor(random() * (total - END_MARGIN));
    const interrupted = await startUntil(threshold);
    interrupted.child.kill('SIGINT');
    const stopped = await interrupted.result;
    const atStop = await applied();
    console.info(`rebuild-resume: seed ${seed}: Ctrl-C at ${threshold} events, stopped at ${atStop} of ${total}`);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain('\nstopping after the chunks in flight (Ctrl-C again to quit now); rerun to resume\n');
    // Everything this run applied is committed, and counted in its last line.
    expect(stopped.stderr.trimEnd().split('\n').at(-1)).toBe(`ops: stopped after ${atStop.toLocaleString('en-US')} events; rerun the same command to resume`);
    expect(atStop).toBeLessThan(total);
    expect(await status()).toBe('building');

    const resumed = await ops(rebuild(), env);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('resuming merchant-metrics v2 (building)');
    expect(resumed.stdout).toContain(`v2 built: ${(total - atStop).toLocaleString('en-US')} events in `);
    expect(await applied()).toBe(total);
    expect(await dump()).toEqual(reference);
  });
});
