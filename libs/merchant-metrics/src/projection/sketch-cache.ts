/** Bytes counted for an entry beside its sketch: the key string, the map slot, the entry object. */
const ENTRY_OVERHEAD = 160;

interface Entry {
  partition: number;
  sketch: Uint8Array;
  bytes: number;
}

/** What one batch wrote, kept aside until its transaction commits. */
export interface StagedSketches {
  partition: number;
  /** The checkpoint the batch started from, and the one it committed. */
  from: number;
  to: number;
  entries: Array<[key: string, sketch: Uint8Array]>;
}

/**
 * The customer sketches a projector last committed, so that the next batch of
 * the same partition merges its new customers into them without reading them
 * back from PostgreSQL (for a large merchant, the rows of the current hour and
 * day are rewritten in every batch: reading them was a third of the batch).
 *
 * An entry is trusted only by the checkpoint it was committed at: a
 * partition's entries are valid at checkpoint C when this cache's last commit
 * for that partition ended at C. Every write to a partition advances its
 * checkpoint in the same transaction and checkpoints only grow, so if
 * anything else wrote the partition since (another process holding the lease
 * for a while), the checkpoint the next batch starts from differs and the
 * partition's entries are dropped unread. A failed batch drops them too.
 *
 * Bounded in bytes (PROJECTOR_SKETCH_CACHE_MB): least recently used entries
 * go first. One cache per projected version; keys are the writer's own.
 */
export class SketchCache {
  private readonly entries = new Map<string, Entry>();
  private readonly validAt = new Map<number, number>();
  private size = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.size;
  }

  get count(): number {
    return this.entries.size;
  }

  /**
   * The partition's entries are about to be used by a batch starting at
   * `checkpoint` (already verified in its transaction): drops them if they
   * were committed at another.
   */
  prepare(partition: number, checkpoint: number): void {
    const at = this.validAt.get(partition);
    if (at !== undefined && at !== checkpoint) this.forget(partition);
  }

  /** The sketch committed for `key`, or undefined when it must be read from the table. */
  get(key: string): Uint8Array | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.sketch;
  }

  /** After COMMIT: the batch's sketches become the partition's, valid at its new checkpoint. */
  commit(staged: StagedSketches): void {
    if (this.validAt.get(staged.partition) !== staged.from) this.forget(staged.partition);
    this.validAt.set(staged.partition, staged.to);
    for (const [key, sketch] of staged.entries) this.put(key, staged.partition, sketch);
  }

  /** Drops every entry of a partition (a failed batch, a checkpoint that moved elsewhere). */
  forget(partition: number): void {
    this.validAt.delete(partition);
    for (const [key, entry] of this.entries) {
      if (entry.partition === partition) this.remove(key, entry);
    }
  }

  private put(key: string, partition: number, sketch: Uint8Array): void {
    const old = this.entries.get(key);
    if (old !== undefined) this.remove(key, old);
    const bytes = sketch.byteLength + key.length * 2 + ENTRY_OVERHEAD;
    if (bytes > this.maxBytes) return;
    // A view into a larger allocation (Node's pooled small buffers) would keep all of it alive: copied, so bytes are what is held.
    const own = sketch.byteOffset === 0 && sketch.buffer.byteLength === sketch.byteLength ? sketch : new Uint8Array(sketch);
    this.entries.set(key, { partition, sketch: own, bytes });
    this.size += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.size <= this.maxBytes) break;
      this.remove(oldest, entry);
    }
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.size -= entry.bytes;
  }
}
