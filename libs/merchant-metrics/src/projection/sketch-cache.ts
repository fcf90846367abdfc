/**
 * Bytes counted for an entry beside its sketch and key: the entry object, its
 * map slot, the Uint8Array with its ArrayBuffer and backing store. Measured:
 * with 160, a cache bounded at 64 MB took 280 MB more RSS (10,000 merchants'
 * one-customer sketches, bench:backlog); 480 is what such an entry costs.
 */
const ENTRY_OVERHEAD = 480;

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
 * Bounded in bytes (PROJECTOR_SKETCH_CACHE_MB), in two generations of half
 * the bound each: entries go into the young one (and move there when used);
 * once it is full it becomes the old one, and the old one is dropped. Every
 * operation is O(1), unlike a least-recently-used list kept in one Map, whose
 * evictions each walked over the holes earlier ones left (it held a
 * projector of 10,000 merchants to 1,200 events/s). One cache per projected
 * version; keys are the writer's own.
 */
export class SketchCache {
  private young = new Map<string, Entry>();
  private old = new Map<string, Entry>();
  private youngBytes = 0;
  private oldBytes = 0;
  private readonly validAt = new Map<number, number>();

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.youngBytes + this.oldBytes;
  }

  get count(): number {
    return this.young.size + this.old.size;
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
    const young = this.young.get(key);
    if (young !== undefined) return young.sketch;
    const old = this.old.get(key);
    if (old === undefined) return undefined;
    this.remove(key);
    this.addYoung(key, old);
    return old.sketch;
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
    for (const generation of [this.young, this.old]) {
      for (const [key, entry] of generation) if (entry.partition === partition) this.remove(key);
    }
  }

  private put(key: string, partition: number, sketch: Uint8Array): void {
    const bytes = sketch.byteLength + key.length + ENTRY_OVERHEAD;
    this.remove(key);
    if (bytes > this.maxBytes / 2) return;
    // A view into a larger allocation (Node's pooled small buffers) would keep all of it alive: copied, so bytes are what is held.
    const own = sketch.byteOffset === 0 && sketch.buffer.byteLength === sketch.byteLength ? sketch : new Uint8Array(sketch);
    this.addYoung(key, { partition, sketch: own, bytes });
  }

  /** Drops `key` from whichever generation holds it. */
  private remove(key: string): void {
    const young = this.young.get(key);
    if (young !== undefined) {
      this.young.delete(key);
      this.youngBytes -= young.bytes;
      return;
    }
    const old = this.old.get(key);
    if (old !== undefined) {
      this.old.delete(key);
      this.oldBytes -= old.bytes;
    }
  }

  private addYoung(key: string, entry: Entry): void {
    if (this.youngBytes + entry.bytes > this.maxBytes / 2) {
      // The young generation is full: it becomes the old one, and the old one goes.
      this.old = this.young;
      this.oldBytes = this.youngBytes;
      this.young = new Map();
      this.youngBytes = 0;
    }
    this.young.set(key, entry);
    this.youngBytes += entry.bytes;
  }
}
