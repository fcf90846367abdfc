import { describe, expect, it } from 'vitest';
import type { EventBatchMessage } from '@app/messaging';
import type { PositionedEvent } from '@app/merchant-metrics';
import { assembleBatch } from './batch-assembly.js';

const event = (position: number): PositionedEvent => ({
  position,
  recordedAt: `t${position}`,
  event: { eventId: `e${position}`, merchantId: 'm', occurredAt: '2026-11-20T00:00:00Z' },
});
const message = (from: number, to: number): EventBatchMessage => ({
  partition: 0,
  fromPosition: from,
  toPosition: to,
  events: Array.from({ length: to - from + 1 }, (_, i) => event(from + i) as unknown as EventBatchMessage['events'][number]),
});
/** The store: every position exists; records what was asked of it. */
function store() {
  const calls: Array<[number, number]> = [];
  const load = async (after: number, count: number) => {
    calls.push([after, count]);
    return Array.from({ length: count }, (_, i) => event(after + 1 + i));
  };
  return { calls, load };
}
const positions = (events: PositionedEvent[]) => events.map((e) => e.position);

describe('assembleBatch', () => {
  it('orders messages and drops what the checkpoint or an earlier message already holds', async () => {
    const s = store();
    const out = await assembleBatch([message(8, 10), message(1, 5), message(4, 7), message(3, 3)], 3, s.load, 100);
    expect(positions(out.events)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(s.calls).toEqual([]);
  });

  it('fills holes before and between messages from the store', async () => {
    const s = store();
    const out = await assembleBatch([message(12, 13), message(6, 8)], 3, s.load, 100);
    expect(positions(out.events)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(s.calls).toEqual([[3, 2], [8, 3]]);
  });

  it('gives up on messages too far ahead, keeping what precedes the hole', async () => {
    const s = store();
    const out = await assembleBatch([message(1, 2), message(500, 501)], 0, s.load, 100);
    expect(out).toMatchObject({ farBehind: true });
    expect(positions(out.events)).toEqual([1, 2]);
  });

  it('bounds the fills of one batch together, not each hole alone', async () => {
    const s = store();
    const out = await assembleBatch([message(41, 42), message(81, 82), message(121, 122)], 0, s.load, 100);
    expect(out.farBehind).toBe(true);
    expect(positions(out.events)).toEqual(Array.from({ length: 82 }, (_, i) => i + 1));
    expect(s.calls).toEqual([[0, 40], [42, 38]]);
  });

  it('yields nothing for pure duplicates', async () => {
    const out = await assembleBatch([message(1, 5), message(2, 3)], 5, store().load, 100);
    expect(out).toEqual({ events: [], farBehind: false });
  });

  it('refuses a store that does not have the missing positions', async () => {
    await expect(assembleBatch([message(10, 10)], 0, async () => [event(1)], 100)).rejects.toThrow('returned 1 of the 9 events after 0');
  });
});
