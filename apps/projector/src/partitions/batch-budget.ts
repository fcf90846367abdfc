/**
 * Events that the partition workers of one process may hold in batches at
 * once (read or taken, not yet applied): PROJECTOR_BATCH_BUDGET_EVENTS. Large
 * batches are what keep a hot partition ahead of its merchant (each batch
 * rewrites the sketch rows of the current hour and day once, whatever its
 * size), but sixteen partitions catching up together must not each hold two
 * of them. A worker asks for a batch's worth and gets what is left, never
 * less than a floor (so no partition ever stops for another): the events
 * held stay under the budget plus one floor per partition.
 */
export class BatchBudget {
  private used = 0;

  constructor(
    readonly maxEvents: number,
    /** Granted whatever is left, so that every partition moves. */
    readonly floorEvents: number,
  ) {}

  /** Events held in batches now. */
  get held(): number {
    return this.used;
  }

  /** A grant of at most `want` events; give() it back once its batch is applied (or dropped). */
  take(want: number): number {
    const granted = Math.max(Math.min(want, this.floorEvents), Math.min(want, this.maxEvents - this.used));
    this.used += granted;
    return granted;
  }

  give(granted: number): void {
    this.used -= granted;
  }
}
