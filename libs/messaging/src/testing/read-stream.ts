import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { decodeEventBatch, type EventBatchMessage } from '../event-batch-message.js';
import { PAYMENTS_STREAM } from '../payments-stream.js';

/** Every message in the PAYMENTS stream, in stream order, decoded (test helper). */
export async function readPaymentsStream(natsUrl: string): Promise<Array<EventBatchMessage & { msgId?: string; subject: string; bytes: number }>> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(PAYMENTS_STREAM).catch(() => undefined);
    if (!info) return [];
    const out: Array<EventBatchMessage & { msgId?: string; subject: string; bytes: number }> = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const msg = await jsm.streams.getMessage(PAYMENTS_STREAM, { seq });
      if (!msg) continue;
      out.push({ ...decodeEventBatch(msg.data), msgId: msg.header?.get('Nats-Msg-Id'), subject: msg.subject, bytes: msg.data.length });
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** Positions per partition, in the order the stream holds them. */
export function positionsByPartition(batches: EventBatchMessage[]): Map<number, number[]> {
  const byPartition = new Map<number, number[]>();
  for (const batch of batches) {
    const list = byPartition.get(batch.partition) ?? [];
    for (const e of batch.events) list.push(e.position);
    byPartition.set(batch.partition, list);
  }
  return byPartition;
}
