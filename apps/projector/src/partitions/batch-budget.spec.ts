import { describe, expect, it } from 'vitest';
import { BatchBudget } from './batch-budget.js';

describe('BatchBudget', () => {
  it('grants whole batches while there is room, then what is left, then the floor', () => {
    const budget = new BatchBudget(50_000, 1000);
    expect(budget.take(20_000)).toBe(20_000);
    expect(budget.take(20_000)).toBe(20_000);
    expect(budget.take(20_000)).toBe(10_000);
    expect(budget.take(20_000)).toBe(1000);
    expect(budget.take(500)).toBe(500); // never more than asked, the floor included
    expect(budget.held).toBe(51_500);
    budget.give(20_000);
    expect(budget.take(20_000)).toBe(18_500);
    expect(budget.held).toBe(50_000);
  });

  it('is back to empty once every grant is given back', () => {
    const budget = new BatchBudget(10_000, 100);
    const grants = [budget.take(8000), budget.take(8000), budget.take(8000)];
    expect(grants).toEqual([8000, 2000, 100]);
    for (const g of grants) budget.give(g);
    expect(budget.held).toBe(0);
  });
});
