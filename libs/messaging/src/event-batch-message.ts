import type { StoredEventRow } from '@app/event-store';

/**
 * One JetStream message carries a run of consecutive events of one partition.
 * The format is documented in docs/message-format.md; keep the two in step.
 */
export interface EventBatchMessage {
  partition: number;
  fromPosition: number;
  toPosition: number;
  events: Array<{ position: number; recordedAt: string; event: Record<string, unknown> }>;
}

export const HEADER_PARTITION = 'Payments-Partition';
export const HEADER_FROM_POSITION = 'Payments-From-Position';
export const HEADER_TO_POSITION = 'Payments-To-Position';

/**
 * Nats-Msg-Id of a batch: its range and when its last event was recorded.
 * The same events always get the same id, so republishing them is
 * deduplicated; other events at the same positions (a new primary reusing the
 * positions a failover lost) get another one, so JetStream takes them. A
 * partition's rows on a promoted standby are a prefix of the old primary's
 * (appends serialize per partition, WAL replays in order), and every row
 * stored after the promotion has its own recorded_at: the last row tells the
 * two bodies apart.
 */
export function batchMessageId(partition: number, fromPosition: number, toPosition: number, lastRecordedAt: string): string {
  return `${partition}:${fromPosition}-${toPosition}@${lastRecordedAt}`;
}

const encoder = new TextEncoder();

/**
 * Encodes rows straight from the store: payloads are already JSON text, so
 * they are spliced in without being parsed and re-serialised.
 */
export function encodeEventBatch(partition: number, rows: StoredEventRow[]): Uint8Array {
  const from = rows[0].position;
  const to = rows[rows.length - 1].position;
  let body = `{"partition":${partition},"fromPosition":${from},"toPosition":${to},"events":[`;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (i > 0) body += ',';
    body += `{"position":${row.position},"recordedAt":"${row.recordedAt}","event":${row.payloadJson}}`;
  }
  return encoder.encode(body + ']}');
}

export class MalformedBatchError extends Error {}

export function decodeEventBatch(data: Uint8Array): EventBatchMessage {
  const parsed = JSON.parse(new TextDecoder().decode(data)) as EventBatchMessage;
  const { partition, fromPosition, toPosition, events } = parsed;
  if (!Number.isInteger(partition) || !Array.isArray(events) || events.length !== toPosition - fromPosition + 1) {
    throw new MalformedBatchError(`malformed event batch (partition ${partition}, ${fromPosition}..${toPosition})`);
  }
  events.forEach((e, i) => {
    if (e.position !== fromPosition + i) throw new MalformedBatchError(`event batch positions are not consecutive at ${e.position}`);
  });
  return parsed;
}
