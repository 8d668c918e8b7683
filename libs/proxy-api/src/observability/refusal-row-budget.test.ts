import { describe, expect, it } from 'vitest';
import { RefusalRowBudget } from './refusal-row-budget';

function takes(budget: RefusalRowBudget, times: number): number {
  let taken = 0;
  for (let i = 0; i < times; i += 1) if (budget.take()) taken += 1;
  return taken;
}

describe('RefusalRowBudget', () => {
  it('gives a burst of perSecond rows, then refills perSecond rows a second, never more than one burst', () => {
    let now = 1_000;
    const budget = new RefusalRowBudget(10, () => now);
    expect(takes(budget, 25)).toBe(10);
    now += 100; // a tenth of a second: one row
    expect(takes(budget, 5)).toBe(1);
    now += 60_000; // a long quiet spell refills one burst, not six hundred seconds' worth
    expect(takes(budget, 25)).toBe(10);
  });

  it('keeps a fraction of a row between calls, and adds nothing when the clock steps back', () => {
    let now = 0;
    const budget = new RefusalRowBudget(2, () => now);
    expect(takes(budget, 3)).toBe(2);
    now += 250; // half a row
    expect(budget.take()).toBe(false);
    now += 250; // the other half
    expect(budget.take()).toBe(true);
    now -= 10_000;
    expect(budget.take()).toBe(false);
  });

  it('below one row a second allows one at a time; zero allows none', () => {
    let now = 0;
    const slow = new RefusalRowBudget(0.5, () => now);
    expect(takes(slow, 3)).toBe(1);
    now += 2_000;
    expect(takes(slow, 3)).toBe(1);
    const none = new RefusalRowBudget(0, () => now);
    now += 60_000;
    expect(takes(none, 3)).toBe(0);
  });
});
