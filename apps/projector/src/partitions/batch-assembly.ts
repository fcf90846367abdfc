import type { EventBatchMessage } from '@app/messaging';
import type { PaymentEventJson, PositionedEvent } from '@app/merchant-metrics';

/** Reads `count` events after `after` from the event store. */
export type StoreLoader = (after: number, count: number) => Promise<PositionedEvent[]>;

export interface AssembledBatch {
  /** Consecutive events from checkpoint + 1, ready for applyEvents. */
  events: PositionedEvent[];
  /** Filling the holes would take more than `maxFill` events from the store: catch up from the store in bulk. */
  farBehind: boolean;
}

/**
 * Turns fetched messages into one run of consecutive events after the
 * checkpoint: messages are sorted, whatever is at or below the checkpoint (or
 * already taken from another message) is dropped, and a hole before a message
 * is filled from the store — so a lost, duplicated or reordered publication
 * can never skip or double an event.
 */
export async function assembleBatch(
  batches: readonly EventBatchMessage[],
  checkpoint: number,
  loadFromStore: StoreLoader,
  maxFill: number,
): Promise<AssembledBatch> {
  const sorted = [...batches].sort((a, b) => a.fromPosition - b.fromPosition);
  const events: PositionedEvent[] = [];
  let next = checkpoint + 1;
  let filled = 0;
  for (const batch of sorted) {
    if (batch.toPosition < next) continue;
    if (batch.fromPosition > next) {
      const missing = batch.fromPosition - next;
      // The fills of one batch together, so a batch holds at most `maxFill` events more than its messages.
      if (filled + missing > maxFill) return { events, farBehind: true };
      filled += missing;
      const loaded = await loadFromStore(next - 1, missing);
      if (loaded.length !== missing || loaded[0].position !== next) {
        throw new Error(`the store returned ${loaded.length} of the ${missing} events after ${next - 1}`);
      }
      events.push(...loaded);
      next = batch.fromPosition;
    }
    for (const e of batch.events) {
      if (e.position < next) continue;
      events.push({ position: e.position, recordedAt: e.recordedAt, event: e.event as unknown as PaymentEventJson });
      next = e.position + 1;
    }
  }
  return { events, farBehind: false };
}
