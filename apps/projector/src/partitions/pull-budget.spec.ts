import { describe, expect, it } from 'vitest';
import { PullBudget, SharedBufferBound } from './pull-budget.js';

describe('PullBudget', () => {
  it('asks for one message until it has seen one', () => {
    expect(new PullBudget(1000).next(0, 5000)).toEqual({ max_messages: 1, expires: 5000 });
  });

  it('turns the room left into bytes at the smallest bytes per event seen, less its margin', () => {
    const budget = new PullBudget(1000, 0.9);
    budget.observe(10, 5000); // 500 bytes an event
    budget.observe(100, 40_000); // 400: the smallest so far
    budget.observe(50, 30_000); // 600: larger events change nothing
    expect(budget.next(0, 5000)).toEqual({ max_bytes: 1000 * 400 * 0.9, expires: 5000 });
    expect(budget.next(600, 5000)).toEqual({ max_bytes: 400 * 400 * 0.9, expires: 5000 });
  });

  it('waits until a quarter of the bound is free', () => {
    const budget = new PullBudget(1000);
    budget.observe(1, 400);
    expect(budget.next(751, 5000)).toBeUndefined();
    expect(budget.next(750, 5000)).toMatchObject({ max_bytes: expect.any(Number) });
    expect(budget.next(1000, 5000)).toBeUndefined();
  });

  it('pulls a message too large for the budget alone, once nothing else is held', () => {
    const budget = new PullBudget(100);
    budget.observe(1, 400);
    budget.tooSmall();
    expect(budget.next(20, 5000)).toBeUndefined();
    expect(budget.next(0, 5000)).toEqual({ max_messages: 1, expires: 5000 });
    // Then back to byte budgets.
    expect(budget.next(0, 5000)).toMatchObject({ max_bytes: expect.any(Number) });
  });

  it('never asks for more events than the bound, when events are no smaller than those seen', () => {
    const budget = new PullBudget(5000);
    for (const [events, bytes] of [[1, 460], [500, 200_050], [37, 14_900]]) budget.observe(events, bytes);
    const { max_bytes } = budget.next(1200, 5000) as { max_bytes: number };
    // 500-event messages of 400 bytes an event: what fits in the budget.
    expect(Math.floor(max_bytes / 400)).toBeLessThanOrEqual(5000 - 1200);
  });

  it('asks for no more than the process-wide bound leaves, and for one message when it holds nothing', () => {
    const shared = new SharedBufferBound(10_000);
    const budget = new PullBudget(40_000, 1, shared);
    budget.observe(1, 100);
    expect(budget.next(0, 5000)).toEqual({ max_bytes: 10_000 * 100, expires: 5000 });
    shared.held = 8000; // other partitions' buffers
    expect(budget.next(0, 5000)).toEqual({ max_messages: 1, expires: 5000 });
    expect(budget.next(500, 5000)).toBeUndefined();
    shared.held = 0;
    expect(budget.next(500, 5000)).toEqual({ max_bytes: 10_000 * 100, expires: 5000 });
  });
});
