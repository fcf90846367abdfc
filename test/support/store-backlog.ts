import type { EventStore, NewEvent } from '@app/event-store';
import { validateRecordRequest } from '@app/payments';
import type { PaymentEventJson } from '../../libs/projections/src/payment-event.json.js';

/** Events as the command API stores them: validated and canonicalised by the same code. */
export function storedForm(events: readonly PaymentEventJson[], now = new Date()): NewEvent[] {
  const out: NewEvent[] = [];
  for (let i = 0; i < events.length; i += 1000) {
    const result = validateRecordRequest({ events: events.slice(i, i + 1000) }, { now, maxFutureSkewMs: 300_000 });
    if (!result.ok) throw new Error(`generated events rejected: ${JSON.stringify(result.errors.slice(0, 3))}`);
    for (const r of result.events) {
      out.push({ eventId: r.eventId, merchantId: r.merchantId, type: r.type, occurredAt: r.occurredAt, payloadJson: r.canonicalJson, bodyHash: r.bodyHash });
    }
  }
  return out;
}

/**
 * Appends straight to the event store, without HTTP, so that a backlog can
 * reach the store faster than producers could send it: `perAppend` events a
 * call, a few calls in flight (the store merges them into group commits).
 * The command API's relay, which polls the store, publishes them on JetStream.
 */
export async function appendToStore(store: EventStore, events: readonly PaymentEventJson[], perAppend = 2000, inFlight = 4): Promise<number> {
  let next = 0;
  let accepted = 0;
  const lane = async () => {
    while (next < events.length) {
      const slice = events.slice(next, next + perAppend);
      next += perAppend;
      const { accepted: n } = await store.append(storedForm(slice));
      accepted += n;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return accepted;
}
