import { describe, expect, it } from 'vitest';
import type { StoredEventRow } from '@app/event-store';
import { chunkEvents, MAX_MESSAGE_BYTES } from './publication-relay.js';
import { encodeEventBatch } from './event-batch-message.js';

const row = (position: number, payloadBytes: number): StoredEventRow => ({
  position, recordedAt: '2026-12-02T00:00:00.000000Z',
  payloadJson: JSON.stringify({ eventId: `e-${position}`, note: 'x'.repeat(Math.max(0, payloadBytes - 40)) }),
} as StoredEventRow);

describe('chunkEvents', () => {
  it('splits by count, and by bytes so that no message body passes the bound', () => {
    const small = Array.from({ length: 1200 }, (_, i) => row(i + 1, 300));
    expect(chunkEvents(small, 500, MAX_MESSAGE_BYTES).map((c) => c.length)).toEqual([500, 500, 200]);
    // 500 events of 2.5 KB: 1.25 MB in one message, over NATS's 1 MiB default max_payload.
    const large = Array.from({ length: 500 }, (_, i) => row(i + 1, 2500));
    const chunks = chunkEvents(large, 500, MAX_MESSAGE_BYTES);
    expect(chunks.length).toBe(2);
    expect(chunks.flat().map((r) => r.position)).toEqual(large.map((r) => r.position));
    for (const c of chunks) expect(encodeEventBatch(3, c).byteLength).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(encodeEventBatch(3, large).byteLength).toBeGreaterThan(1024 * 1024);
  });

  it('sends an event larger than the bound alone, and splits the same events the same way every time', () => {
    const rows = [row(1, 100), row(2, 5000), row(3, 100), row(4, 100)];
    expect(chunkEvents(rows, 500, 1000).map((c) => c.map((r) => r.position))).toEqual([[1], [2], [3, 4]]);
    expect(chunkEvents(rows, 500, 1000)).toEqual(chunkEvents([...rows], 500, 1000));
  });
});
