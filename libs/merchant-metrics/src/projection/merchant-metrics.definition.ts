import type pg from 'pg';
import type { ProjectionDefinition, VersionDiff, VersionRuntime, VersionTarget } from '@app/projections';
import { readPartitionCount } from '@app/event-store';
import { bulkFoldPartition } from '../rebuild/bulk-fold.js';
import { diffVersions } from '../rebuild/diff-versions.js';
import { advanceRollupWatermark, initRollupWatermarks, rollupWatermarkTarget } from '../registry/rollup-watermark.js';
import {
  addMissingReadModelKeys, createReadModelRelations, hasReadModelKeys, readModelPartitionsMatch, type ReadModelLayout,
} from '../schema/read-model-tables.js';
import { applyEvents, type ProjectionTarget } from './apply-events.js';
import { knownMerchantMetricsVersions, layoutOf, merchantMetricsLogic, PROJECTION_NAME, type MerchantMetricsLogic } from './merchant-metrics.projection.js';
import { SketchCache } from './sketch-cache.js';

/** How often a version's rollup watermarks are looked at by default (PROJECTOR_ROLLUP_CHECK_SECONDS). */
const DEFAULT_ROLLUP_CHECK_MS = 60_000;

/**
 * merchant-metrics as a projection definition: the versions of
 * merchant-metrics.projection.ts, their tables (schema/read-model-tables.ts),
 * the batch apply (apply-events.ts) with its sketch cache, the set-based
 * rebuild fold (rebuild/bulk-fold.ts), the cell diff, and, on the native
 * engine, the rollups of finished days as the projector's maintenance.
 */
// Tables of a version number no logic has (a test's): the layout every version had before v3 (layoutOf).
export const merchantMetricsProjection: ProjectionDefinition = merchantMetricsDefinition(merchantMetricsLogic, layoutOf);

/**
 * The definition with the logic of each version given by `logicOf`: tests
 * build a version number under another version's logic (a second build of
 * the same rules to compare with).
 */
export function merchantMetricsDefinition(
  logicOf: (version: number) => MerchantMetricsLogic,
  /** The tables a version keeps; by default its logic's. */
  layoutFor: (version: number) => ReadModelLayout = (version) => logicOf(version).layout,
): ProjectionDefinition {
  const withLogic = (target: VersionTarget): ProjectionTarget => ({ ...target, logic: logicOf(target.version) });
  return {
    name: PROJECTION_NAME,
    // A new installation starts on v3; one that started on an older version sets its own (PROJECTOR_VERSIONS).
    defaultVersion: 3,
    versions: knownMerchantMetricsVersions,
    describe: (version) => logicOf(version).description,

    async createTables(client, target) {
      const layout = layoutFor(target.version);
      await createReadModelRelations(client, target.schemaName, target.engine, { deferKeys: target.deferKeys, layout });
      // The sketches layout's rollups are written with every batch: no watermark (no row: complete).
      if (target.engine === 'postgres' && layout === 'customer-sets') await initRollupWatermarks(client, target.schemaName, target.partitions);
    },

    open(version, resources): VersionRuntime {
      const target = withLogic(version);
      const sketchCache = target.logic.layout === 'sketches' && resources.cacheBytes > 0 ? new SketchCache(resources.cacheBytes) : undefined;
      const checkEveryMs = resources.maintenanceMs ?? DEFAULT_ROLLUP_CHECK_MS;
      let checkedAt = -Infinity;
      let storePartitions: number | undefined;
      return {
        apply: (client, partition, checkpoint, events) => applyEvents(client, target, partition, checkpoint, events, { sketchCache }),
        /**
         * Moves the rollup watermark of each owned partition up to ROLLUP_DELAY_DAYS before the start of
         * the current UTC day (native engine, customer-sets layout): the finished days' hourly and daily
         * rollups are computed from the 15-minute table, one day per transaction, so that the partition's
         * batches, which wait for it, never wait for more than a day's rollups.
         */
        async maintain(pool: pg.Pool, partitions, shouldStop, log) {
          if (target.engine !== 'postgres' || target.logic.layout !== 'customer-sets' || performance.now() - checkedAt < checkEveryMs) return;
          checkedAt = performance.now();
          const until = rollupWatermarkTarget(new Date());
          const client = await pool.connect();
          try {
            for (const partition of [...partitions].sort((a, b) => a - b)) {
              if (shouldStop()) return;
              let days = 0;
              try {
                storePartitions ??= await readPartitionCount(pool);
                while (!shouldStop() && (await advanceRollupWatermark(client, target, partition, until, storePartitions, { maxDays: 1 }))) days++;
              } catch (error) {
                log(`partition ${partition}: rollup materialization failed: ${(error as Error).message}`);
                return;
              }
              if (days > 0) log(`partition ${partition}: rollups of ${days} finished UTC day${days > 1 ? 's' : ''} materialized`);
            }
          } finally {
            client.release();
          }
        },
      };
    },

    bulkFold: {
      foldChunk: (client, target, partition, options) => bulkFoldPartition(client, withLogic(target), partition, options),
      hasKeys: (client, target) => hasReadModelKeys(client, target.schemaName),
      addKeys: (clients, target) => addMissingReadModelKeys(clients, target.schemaName, target.engine, layoutFor(target.version)),
      keysPerPartition: readModelPartitionsMatch,
    },

    async diff(client, from, to, filter): Promise<VersionDiff> {
      const diff = await diffVersions(client, from.schemaName, to.schemaName, filter);
      return {
        unit: 'cells',
        rows: diff.cells,
        merchants: diff.merchants,
        listed: diff.listed.map((d) => ({
          key: { merchant: d.merchantId, bucket: d.bucket.toISOString(), currency: d.currency, method: d.paymentMethod, store: d.storeId || '-' },
          fields: d.fields,
        })),
      };
    },
  };
}
