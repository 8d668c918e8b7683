import { describe, expect, it } from 'vitest';
import { budgetPeriodAt } from './budget-period';

describe('budgetPeriodAt', () => {
  it('moves to the next period at its first millisecond and back when the clock goes back', () => {
    const lastMsOfNovember = Date.UTC(2026, 10, 30, 23, 59, 59, 999);
    expect(budgetPeriodAt('month', lastMsOfNovember)).toMatchObject({
      id: 'm2026-11',
      endMs: Date.UTC(2026, 11, 1),
    });
    expect(budgetPeriodAt('month', lastMsOfNovember + 1).id).toBe('m2026-12');
    expect(budgetPeriodAt('month', lastMsOfNovember).id).toBe('m2026-11');
    expect(budgetPeriodAt('day', lastMsOfNovember).id).toBe('d2026-11-30');
    expect(budgetPeriodAt('day', lastMsOfNovember + 1).id).toBe('d2026-12-01');
    expect(budgetPeriodAt('day', Date.UTC(2026, 10, 30)).id).toBe('d2026-11-30');
  });

  it('starts weeks on Monday (UTC) and keeps one total period', () => {
    // 2026-11-30 is a Monday
    expect(budgetPeriodAt('week', Date.UTC(2026, 10, 29, 23, 59)).id).toBe('w2026-11-23');
    expect(budgetPeriodAt('week', Date.UTC(2026, 10, 30)).id).toBe('w2026-11-30');
    expect(budgetPeriodAt('week', Date.UTC(2026, 11, 6, 23, 59)).id).toBe('w2026-11-30');
    expect(budgetPeriodAt('week', Date.UTC(2026, 10, 29)).id).toBe('w2026-11-23');
    expect(budgetPeriodAt('total', 0)).toEqual({ id: 'total', startMs: 0, endMs: null });
    expect(budgetPeriodAt('total', Date.UTC(2030, 0, 1)).id).toBe('total');
  });
});
