import type { FetchOptions } from '@nats-io/jetstream';

/**
 * Events held in the buffers of all partitions of a process together
 * (PROJECTOR_BUFFER_TOTAL_EVENTS): each partition's own bound lets a hot one
 * buffer enough for large batches, this one keeps sixteen busy ones from
 * each doing so at once.
 */
export class SharedBufferBound {
  held = 0;

  constructor(readonly maxEvents: number) {}
}

/**
 * How much a partition's consumer may ask JetStream for: events are what the
 * bound is stated in, but a pull request can only be limited in messages or
 * bytes. Each message's event count is known on arrival (its position
 * headers), so the budget learns, per partition, the fewest bytes an event has
 * taken in a message, and turns the events left of the bound into bytes at
 * that rate, less a margin. A pull can then bring at most the events the
 * bound has room for, unless events shrink by more than the margin.
 */
export class PullBudget {
  /** Fewest message bytes per event seen so far; undefined before the first message. */
  private bytesPerEvent?: number;
  /** The next message did not fit in the last byte budget: pull it alone, when nothing else is held. */
  private oversized = false;

  constructor(
    /** Most events held in memory, received and not yet applied. */
    readonly maxEvents: number,
    /** Share of the learnt rate a budget counts on (events a little smaller than any seen still fit). */
    private readonly margin = 0.9,
    /** The process's bound over every partition's buffer, if any. */
    private readonly shared?: SharedBufferBound,
  ) {}

  /** Records a message of `events` events in `bytes` bytes (its data). */
  observe(events: number, bytes: number): void {
    if (events < 1) return;
    const rate = bytes / events;
    if (this.bytesPerEvent === undefined || rate < this.bytesPerEvent) this.bytesPerEvent = rate;
  }

  /** The last pull ended before its first message because that message exceeded the byte budget. */
  tooSmall(): void {
    this.oversized = true;
  }

  /**
   * The next pull's size given `held` events in memory, or undefined when it
   * must wait for room. Pulls are made only once a quarter of the bound is
   * free (of the partition's, and within the process's shared bound), so a
   * busy partition pulls in a few large requests, not many small ones.
   */
  next(held: number, expiresMs: number): FetchOptions | undefined {
    if (held === 0 && (this.oversized || this.bytesPerEvent === undefined)) {
      this.oversized = false;
      // One message, whatever its size: the bound can never stop a partition from moving.
      return { max_messages: 1, expires: expiresMs };
    }
    const sharedRoom = this.shared ? this.shared.maxEvents - this.shared.held : Infinity;
    const room = Math.min(this.maxEvents - held, sharedRoom);
    if (held === 0 && room < Math.max(1, this.maxEvents / 4)) {
      // The other partitions hold the process's bound: one message, so that this one still moves.
      return { max_messages: 1, expires: expiresMs };
    }
    if (this.oversized || this.bytesPerEvent === undefined || room < Math.max(1, this.maxEvents / 4)) return undefined;
    return { max_bytes: Math.max(1, Math.floor(room * this.bytesPerEvent * this.margin)), expires: expiresMs };
  }
}
