import type { BudgetPeriod } from '../keys/virtual-key';

const DAY_MS = 86_400_000;

/** A budget period: its id and bounds (epoch ms; `endMs` null for `total`). */
export interface BudgetPeriodSpan {
  readonly id: string;
  readonly startMs: number;
  readonly endMs: number | null;
}

// the period last computed for each kind: every admission asks, and it changes once a day at most
const current = new Map<BudgetPeriod, BudgetPeriodSpan>();

/** The current budget period (UTC calendar): its id and when its counters may be dropped. */
export function budgetPeriodAt(period: BudgetPeriod, nowMs: number): BudgetPeriodSpan {
  const last = current.get(period);
  if (last !== undefined && nowMs >= last.startMs && (last.endMs === null || nowMs < last.endMs)) return last;
  const span = computePeriod(period, nowMs);
  current.set(period, span);
  return span;
}

function computePeriod(period: BudgetPeriod, nowMs: number): BudgetPeriodSpan {
  const now = new Date(nowMs);
  const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  switch (period) {
    case 'day':
      return { id: `d${isoDate(dayStart)}`, startMs: dayStart, endMs: dayStart + DAY_MS };
    case 'week': {
      // ISO weeks start on Monday
      const start = dayStart - ((now.getUTCDay() + 6) % 7) * DAY_MS;
      return { id: `w${isoDate(start)}`, startMs: start, endMs: start + 7 * DAY_MS };
    }
    case 'month': {
      const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
      return {
        id: `m${isoDate(start).slice(0, 7)}`,
        startMs: start,
        endMs: Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1),
      };
    }
    case 'total':
      return { id: 'total', startMs: 0, endMs: null };
  }
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
