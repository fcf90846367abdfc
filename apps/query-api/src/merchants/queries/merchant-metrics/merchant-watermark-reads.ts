import type pg from 'pg';
import { readPartitionCount } from '@app/event-store';
import { readMerchantWatermark, type Freshness } from '@app/merchant-metrics';
import { type LiveVersion, type SqlClient } from '@app/projections';
import type { LiveVersionPin } from './merchant-metrics.service.js';

/** A merchant's row of merchant_watermarks in one version (null without one) and the freshness read with it. */
export interface MerchantWatermarkRead {
  watermark: string | null;
  freshness: Freshness;
}

/**
 * Reads of merchants' data watermarks, shared where they can be: one read
 * per merchant and version for a whole request (kept on its LiveVersionPin),
 * however many of its fields or checks need it — a dashboard's refresh is two
 * requests of two fields each, and a REST request needs it for its ETag and
 * for the cache —, and one read in flight for all the requests that ask for
 * the same merchant at the same time. A read that joins one in flight may see
 * data up to that one statement older than its own arrival: a cached answer
 * it serves or a tag it makes is then older, never newer, than the data,
 * which costs a later miss, never a wrong answer.
 *
 * Holds nothing once a read settles: the reads in flight, as many as the
 * requests being served.
 */
export class MerchantWatermarkReads {
  private readonly inFlight = new Map<string, Promise<MerchantWatermarkRead>>();
  private partitions: Promise<number> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly statements: SqlClient,
  ) {}

  read(live: LiveVersion, merchantId: string, pin?: LiveVersionPin): Promise<MerchantWatermarkRead> {
    const key = `${live.version}\u0000${merchantId}`;
    const pinned = pin?.watermarks?.get(key);
    if (pinned !== undefined) return pinned;
    let read = this.inFlight.get(key);
    if (read === undefined) {
      read = this.readNow(live, merchantId);
      this.inFlight.set(key, read);
      const settled = () => this.inFlight.delete(key);
      read.then(settled, settled);
    }
    if (pin !== undefined) {
      const watermarks = (pin.watermarks ??= new Map());
      watermarks.set(key, read);
      // A failed read is not kept for the rest of the request: a later check may try again.
      read.catch(() => watermarks.delete(key));
    }
    return read;
  }

  /** The event store's partition count, read once (it is fixed at install); a failed read is tried again next time. */
  partitionCount(): Promise<number> {
    this.partitions ??= readPartitionCount(this.pool).catch((error: unknown) => {
      this.partitions = undefined;
      throw error;
    });
    return this.partitions;
  }

  private async readNow(live: LiveVersion, merchantId: string): Promise<MerchantWatermarkRead> {
    return readMerchantWatermark(this.statements, live, await this.partitionCount(), merchantId);
  }
}
