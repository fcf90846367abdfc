import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeArchiveReaders, exportArchive, removeArchivedRange, verifyArchive } from '@app/archive';
import { createPool } from '@app/database';
import { readPartitionCount } from '@app/event-store';
import { merchantMetricsDefinition, merchantMetricsV2 } from '@app/merchant-metrics';
import { merchantPaymentsProjection } from '@app/merchant-payments';
import { dropVersion, rebuildVersion, type ProjectionDefinition } from '@app/projections';
import { testDatabase, type TestDatabase } from '@app/testing';
import { memberLoginPool, type MemberLoginPool } from '../../archive/src/testing/member-login.js';
import { paymentLifecycles, storeEvents } from '../../merchant-payments/src/testing/payment-lifecycles.js';
import { ArchivedEventSource } from './archived-event-source.js';

/** merchant-metrics under v2's logic with a second version number (12) to rebuild it again and compare. */
const metricsAgain: ProjectionDefinition = { ...merchantMetricsDefinition(() => merchantMetricsV2), versions: () => [2, 12] };

describe('rebuilding after half the store moved to the cold archive', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let archivist: MemberLoginPool;
  let dir: string;
  let partitions: number;
  let removed: number;
  /** merchant-payments v1's rows before archiving. */
  let paymentsBefore: unknown[];

  const paymentRows = async () =>
    (await pool.query(`select * from rm_merchant_payments_v1.payments order by merchant_id, payment_id`)).rows;

  beforeAll(async () => {
    database = await testDatabase();
    pool = createPool({ connectionString: database.url, max: 4 });
    partitions = await readPartitionCount(pool);
    archivist = await memberLoginPool(database.url, pool, 'event_archivist');
    dir = mkdtempSync(join(tmpdir(), 'archived-rebuild-'));
    const events = paymentLifecycles({ seed: 5, payments: 1200, merchants: 10, prefix: 'ar-', from: new Date('2026-09-01T00:00:00Z'), days: 60 });
    // Two halves recorded at different times: the archive takes the first.
    await storeEvents(pool, events.slice(0, 800));
    const { rows } = await pool.query<{ now: Date }>('select clock_timestamp() as now');
    await new Promise((r) => setTimeout(r, 20));
    await storeEvents(pool, events.slice(800));

    // The versions as built from the whole hot store.
    await rebuildVersion(pool, metricsAgain, { version: 2, codeRevision: 'test' });
    await rebuildVersion(pool, merchantPaymentsProjection, { version: 1, codeRevision: 'test' });
    paymentsBefore = await paymentRows();

    await exportArchive(pool, { dir, before: rows[0]!.now });
    const verified = await verifyArchive(pool, { dir });
    expect(verified.problems).toEqual([]);
    removed = 0;
    for (let p = 0; p < partitions; p++) {
      const { rows: ranges } = await pool.query(`select 1 from event_store.archived_ranges where partition = $1`, [p]);
      if (ranges.length > 0) removed += (await removeArchivedRange(archivist.pool, p)).events;
    }
  }, 180_000);
  afterAll(async () => {
    await closeArchiveReaders();
    await archivist?.drop();
    await pool?.end();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('removed the first half from the hot store', async () => {
    // The first 800 payments' events, less those of partitions whose range stops early (a later event committed first).
    const firstHalfEvents = (await pool.query<{ n: number }>(`select count(*)::int as n from event_store.archived_ranges`)).rows[0]!.n;
    expect(firstHalfEvents).toBeGreaterThan(0);
    expect(removed).toBeGreaterThan(0.3 * (await totalEvents()));
    const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from event_store.events');
    expect(rows[0]!.n).toBe((await totalEvents()) - removed);
  });

  it('refuses to rebuild from position zero without the archive, saying what to set', async () => {
    await expect(rebuildVersion(pool, metricsAgain, { version: 12, codeRevision: 'test', events: new ArchivedEventSource(pool, undefined) }))
      .rejects.toThrow(/were moved to the cold archive; set ARCHIVE_DIR to read them/);
    await dropVersion(pool, 'merchant-metrics', 12);
  });

  it('builds exactly the same merchant-metrics tables from archive and store (set-based fold after the archived range): diff = 0', async () => {
    const result = await rebuildVersion(pool, metricsAgain, { version: 12, codeRevision: 'test', events: new ArchivedEventSource(pool, dir) });
    expect(result.version.status).toBe('catching_up');
    const [v2, v12] = [{ projection: 'merchant-metrics', version: 2, schemaName: 'rm_merchant_metrics_v2', engine: 'postgres' as const },
      { projection: 'merchant-metrics', version: 12, schemaName: 'rm_merchant_metrics_v12', engine: 'postgres' as const }];
    const diff = await metricsAgain.diff(pool, v2, v12, {});
    expect(diff.rows).toBe(0);
    const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from rm_merchant_metrics_v12.metrics_15m');
    expect(rows[0]!.n).toBeGreaterThan(100);
  }, 120_000);

  it('builds exactly the same merchant-payments rows (replayed through the projection) from archive and store', async () => {
    await dropVersion(pool, 'merchant-payments', 1);
    await rebuildVersion(pool, merchantPaymentsProjection, { version: 1, codeRevision: 'test', events: new ArchivedEventSource(pool, dir), chunkEvents: 100 });
    expect(await paymentRows()).toEqual(paymentsBefore);
  }, 120_000);

  /** Events ever stored: the partitions' heads (positions are gapless from 1 and stay after a removal). */
  async function totalEvents(): Promise<number> {
    let n = 0;
    for (let p = 0; p < partitions; p++) n += Number((await pool.query(`select head from event_store.partition_heads where partition = $1`, [p])).rows[0].head);
    return n;
  }
});
