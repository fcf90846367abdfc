import type { PaymentEventJson } from '@app/projections';

const PATH = '/payments.v1.PaymentEventService/RecordPaymentEvents';

/** Sends events to a command API in requests of `batch`, as a producer would (Connect JSON). */
export async function sendEvents(url: string, key: string, events: readonly PaymentEventJson[], batch = 500): Promise<number> {
  let accepted = 0;
  for (let i = 0; i < events.length; i += batch) {
    const res = await fetch(`${url}${PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ events: events.slice(i, i + batch) }),
    });
    const body = (await res.json()) as { accepted?: number; message?: string };
    if (res.status !== 200) throw new Error(`command API answered ${res.status}: ${body.message}`);
    accepted += body.accepted ?? 0;
  }
  return accepted;
}
