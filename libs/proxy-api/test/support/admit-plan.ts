import type { AdmitPlan } from '../../src/limits/limit-backend';

/** An admission plan of the key `key_a` with no limits, no reservation and a total budget period; `overrides` set what a test limits. */
export function admitPlan(overrides: Partial<AdmitPlan> = {}): AdmitPlan {
  return {
    scope: 'key_a',
    nowMs: 0,
    rpm: null,
    tpm: null,
    parallel: null,
    budgetMicros: null,
    budgetPeriodId: 'total',
    budgetExpiresAtMs: null,
    reserveMicros: 0,
    seedSpentMicros: 0,
    shadow: new Set(),
    ...overrides,
  };
}
