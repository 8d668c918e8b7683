import { silentLogger } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../keys/memory-key-store';
import type { VirtualKey } from '../keys/virtual-key';
import type { CostEstimateInput, CostEstimator } from './cost-estimator';
import { KeyLimiter, type Admission } from './key-limiter';
import type { LimitBackend } from './limit-backend';
import { MemoryLimitBackend } from './memory-limit-backend';
import { SpendLedger } from './spend-ledger';
import { UNESTIMATED_MODELS_WARNED } from './unestimated-cost-warnings';

const NOW = Date.UTC(2026, 10, 30, 12);

const key = (fields: Partial<VirtualKey> = {}): VirtualKey => ({
  id: 'key_a',
  hash: 'ab'.repeat(32),
  hint: 'abcd',
  name: 'a',
  customerId: null,
  owner: null,
  metadata: {},
  models: [],
  rpm: null,
  tpm: null,
  maxParallel: null,
  budgetUsd: null,
  budgetPeriod: 'month',
  expiresAt: null,
  enabled: true,
  revokedAt: null,
  createdAt: 0,
  updatedAt: 0,
  source: 'store',
  ...fields,
});

function limiter(
  costEstimator?: CostEstimator,
  ledger?: SpendLedger,
  backend: LimitBackend = new MemoryLimitBackend(),
): KeyLimiter {
  return new KeyLimiter({
    backend,
    costEstimator,
    defaultReservationUsd: 0.5,
    shadow: new Set(),
    budgetStatus: 429,
    now: () => NOW,
    logger: silentLogger,
    ledger,
  });
}

const input = { model: 'm', endpoint: 'chat' as const, body: {} };

function reserved(admission: Admission): number {
  if (!admission.admitted) throw new Error('refused');
  return admission.lease.plan.reserveMicros;
}

describe('KeyLimiter', () => {
  it('admits and settles on memory counters without waiting for a promise', () => {
    const subject = limiter();
    const admission = subject.admit(key({ rpm: 10, maxParallel: 1 }), input);
    expect(admission).not.toBeInstanceOf(Promise);
    const first = admission as Admission;
    expect(first).toMatchObject({
      admitted: true,
      headers: { 'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '9' },
    });
    expect(subject.admit(key({ rpm: 10, maxParallel: 1 }), input)).toMatchObject({
      admitted: false,
      error: { code: 'rate_limit_exceeded' },
    });
    if (!first.admitted) throw new Error('refused');
    expect(
      subject.settle(first.lease, { tokens: 5, costUsd: undefined, reachedUpstream: true }),
    ).toBeUndefined();
    // the slot is free again at once
    expect(subject.admit(key({ rpm: 10, maxParallel: 1 }), input)).toMatchObject({ admitted: true });
  });

  it('asks a client refused by rpm or tpm to retry when the sliding window has room again', async () => {
    let nowMs = NOW;
    const subject = new KeyLimiter({
      backend: new MemoryLimitBackend(),
      costEstimator: undefined,
      defaultReservationUsd: 0,
      shadow: new Set(),
      budgetStatus: 429,
      now: () => nowMs,
      logger: silentLogger,
    });
    const limited = key({ rpm: 10 });
    for (let i = 0; i < 10; i++) {
      const admission = subject.admit(limited, undefined) as Admission;
      if (!admission.admitted) throw new Error('refused');
      await subject.settle(admission.lease, { tokens: 12, costUsd: undefined, reachedUpstream: true });
    }
    // 10 requests now: after this window (60 s), a millisecond for 10 to fade below 10
    expect(subject.admit(limited, undefined)).toMatchObject({
      admitted: false,
      error: { code: 'rate_limit_exceeded', retryAfterMs: 60_001 },
      headers: { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '2m0s' },
    });
    // 61 s on: 10 * (59 / 60) of the requests weigh, room for one; then 1 + 9 = 10 at 66 s
    nowMs += 61_000;
    expect(subject.admit(limited, undefined)).toMatchObject({ admitted: true });
    expect(subject.admit(limited, undefined)).toMatchObject({
      admitted: false,
      error: { retryAfterMs: 5_001 },
    });
    // 120 * (59 / 60) tokens weigh, over a tpm of 100 until 120 fade to 100 at 70 s (and a millisecond)
    expect(subject.admit(key({ tpm: 100 }), undefined)).toMatchObject({
      admitted: false,
      error: { message: expect.stringContaining('100 tokens per minute') as string, retryAfterMs: 9_001 },
    });
  });

  it('charges nothing for a negative cost: a key spend never goes down (the memory backend lowered it)', async () => {
    const backend = new MemoryLimitBackend();
    const subject = limiter(undefined, undefined, backend);
    const budgeted = key({ budgetUsd: 10 });
    for (const costUsd of [2, -5]) {
      const admission = await subject.admit(budgeted, input);
      if (!admission.admitted) throw new Error('refused');
      await subject.settle(admission.lease, { tokens: 5, costUsd, reachedUpstream: true });
    }
    const admission = await subject.admit(budgeted, input);
    if (!admission.admitted) throw new Error('refused');
    expect(
      (await backend.usage(admission.lease.plan.scope, admission.lease.plan.budgetPeriodId, NOW)).spentMicros,
    ).toBe(2_000_000);
  });

  it('reserves what a synchronous or asynchronous estimator bounds, and the default when it has no answer or fails', async () => {
    const budget = key({ budgetUsd: 100 });
    expect(reserved(limiter({ estimateMaxCostUsd: () => 0.25 }).admit(budget, input) as Admission)).toBe(
      250_000,
    );
    expect(reserved(await limiter({ estimateMaxCostUsd: async () => 0.125 }).admit(budget, input))).toBe(
      125_000,
    );
    expect(reserved(await limiter({ estimateMaxCostUsd: () => null }).admit(budget, input))).toBe(500_000);
    expect(reserved(await limiter({ estimateMaxCostUsd: () => Number.NaN }).admit(budget, input))).toBe(
      500_000,
    );
    const throwing: CostEstimator = {
      estimateMaxCostUsd: () => {
        throw new Error('no price');
      },
    };
    expect(reserved(await limiter(throwing).admit(budget, input))).toBe(500_000);
    expect(
      reserved(
        await limiter({ estimateMaxCostUsd: () => Promise.reject(new Error('no price')) }).admit(
          budget,
          input,
        ),
      ),
    ).toBe(500_000);
  });

  it('waits for the persisted spend the first time, then seeds admissions from what it read', async () => {
    const store = new MemoryKeyStore();
    await store.writeSpend([{ keyId: 'key_a', periodId: 'm2026-11', spentMicros: 900_000 }]);
    const backend = new MemoryLimitBackend();
    const ledger = new SpendLedger({
      store,
      backend,
      flushIntervalMs: 0,
      maxEntries: 10,
      seedTtlMs: 60_000,
      now: () => NOW,
      logger: silentLogger,
    });
    const subject = limiter({ estimateMaxCostUsd: () => 0.05 }, ledger, backend);
    const budget = key({ budgetUsd: 1 });
    const first = subject.admit(budget, input);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toMatchObject({ admitted: true });
    // 0.9 spent + 0.05 reserved: another 0.05 fits, a third does not
    const second = subject.admit(budget, input);
    expect(second).not.toBeInstanceOf(Promise);
    expect(second).toMatchObject({ admitted: true });
    expect(subject.admit(budget, input)).toMatchObject({
      admitted: false,
      error: { code: 'budget_exceeded' },
    });
    await subject.close();
  });
});

describe('KeyLimiter: which budget refusal it is', () => {
  /** A $1-a-month key whose requests are estimated at $0.6, with one admitted (and settled at `costUsd` when given). */
  const oneRequestIn = (costUsd?: number) => {
    const subject = limiter({ estimateMaxCostUsd: () => 0.6 });
    const budget = key({ budgetUsd: 1 });
    const first = subject.admit(budget, input);
    if (first instanceof Promise || !first.admitted) throw new Error('expected an admission');
    if (costUsd !== undefined)
      void subject.settle(first.lease, { tokens: 10, costUsd, reachedUpstream: true });
    return { subject, budget, first };
  };

  const refusal = (admission: Admission | Promise<Admission>) => {
    if (admission instanceof Promise || admission.admitted) throw new Error('expected a refusal');
    return admission.error;
  };

  it('says the budget is held by requests in flight, and to retry in a second, not at the period end', () => {
    const { subject, budget, first } = oneRequestIn();
    const error = refusal(subject.admit(budget, input));
    expect(error).toMatchObject({ code: 'budget_exceeded', retryAfterMs: 1_000 });
    expect(error.message).toBe(
      "Of what is left of this key's budget for the current period ($1), its requests in flight hold $0.6: this request's estimate ($0.6) fits once they finish.",
    );
    // once the first is settled (it cost 0.1), the second fits
    void subject.settle(first.lease, { tokens: 10, costUsd: 0.1, reachedUpstream: true });
    expect(subject.admit(budget, input)).toMatchObject({ admitted: true });
  });

  it("says when this request's estimate alone is more than what is left, until the period's end", () => {
    const { subject, budget } = oneRequestIn(0.5);
    const error = refusal(subject.admit(budget, input));
    expect(error).toMatchObject({ code: 'budget_exceeded' });
    expect(error.message).toBe(
      "The estimated cost of this request ($0.6) is more than what is left of this key's budget for the current period ($0.5): ask for fewer output tokens (max_tokens).",
    );
    // the month of NOW (November 2026) ends on December 1st, 00:00 UTC
    expect(error.retryAfterMs).toBe(Date.UTC(2026, 11, 1) - NOW);
  });

  it('says the budget is exhausted once it is spent, until the period ends', () => {
    const { subject, budget } = oneRequestIn(1);
    const error = refusal(subject.admit(budget, input));
    expect(error.message).toBe('The budget of this key for the current period is exhausted.');
    expect(error.retryAfterMs).toBe(Date.UTC(2026, 11, 1) - NOW);
  });
});

describe('KeyLimiter: a budget refusal the figures do not explain', () => {
  it('says the budget is spent when spend still owed from a Redis outage refused it, not to retry in a second', () => {
    const memory = new MemoryLimitBackend();
    // the failover backend's way of counting spend owed to Redis: in the plan, not in the result
    const owing: LimitBackend = {
      kind: 'memory',
      admit: (plan) => memory.admit({ ...plan, owedSpendMicros: 600_000 }),
      settle: (lease, actual) => memory.settle(lease, actual),
      usage: (scope, period, nowMs) => memory.usage(scope, period, nowMs),
      ping: () => memory.ping(),
    };
    const subject = limiter({ estimateMaxCostUsd: () => 0.6 }, undefined, owing);
    const admission = subject.admit(key({ budgetUsd: 1 }), input);
    if (admission instanceof Promise || admission.admitted) throw new Error('expected a refusal');
    expect(admission.error.message).toBe('The budget of this key for the current period is exhausted.');
    expect(admission.error.retryAfterMs).toBe(Date.UTC(2026, 11, 1) - NOW);
  });
});

describe('KeyLimiter: a budget on requests whose cost cannot be estimated', () => {
  function warnedLimiter(
    options: { defaultReservationUsd?: number; costEstimator?: CostEstimator | undefined } = {},
  ) {
    const warnings: { fields: object; message: string | undefined }[] = [];
    const subject = new KeyLimiter({
      backend: new MemoryLimitBackend(),
      costEstimator:
        'costEstimator' in options
          ? options.costEstimator
          : { estimateMaxCostUsd: ({ model }) => (model === 'priced' ? 0.01 : null) },
      defaultReservationUsd: options.defaultReservationUsd ?? 0,
      shadow: new Set(),
      budgetStatus: 429,
      now: () => NOW,
      logger: { ...silentLogger, warn: (fields, message) => warnings.push({ fields, message }) },
    });
    // memory counters and a synchronous estimate: each admission is answered at once
    const admit = (virtualKey: VirtualKey, request: CostEstimateInput): void => {
      expect(subject.admit(virtualKey, request)).not.toBeInstanceOf(Promise);
    };
    return { subject, admit, warnings };
  }
  const budgeted = key({ budgetUsd: 5 });
  const chat = (model: string) => ({ model, endpoint: 'chat' as const, body: { model } });

  it('warns once per model that the budget reserves nothing for it, naming the model and what to set', () => {
    const { admit, warnings } = warnedLimiter();
    for (let i = 0; i < 3; i++) admit(budgeted, chat('unpriced'));
    admit(budgeted, chat('priced'));
    admit(budgeted, { model: 'unpriced', endpoint: 'messages', body: {} });
    admit(key({ id: 'key_b', budgetUsd: 1 }), chat('other'));
    expect(warnings.map(({ fields }) => fields)).toEqual([
      { model: 'unpriced', keyId: 'key_a' },
      { model: 'other', keyId: 'key_b' },
    ]);
    for (const { message } of warnings) {
      expect(message).toContain('limits.defaultReservationUsd');
      expect(message).toContain('pricing.models');
    }
    // the key's hash (what the limiter holds of its secret) is never logged
    expect(JSON.stringify(warnings)).not.toContain(budgeted.hash);
  });

  it('warns of /proxy requests once, whose cost is never estimated before the call', () => {
    const { admit, warnings } = warnedLimiter();
    for (let i = 0; i < 2; i++) admit(budgeted, { model: '', endpoint: 'proxy', body: undefined });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toEqual({ endpoint: 'proxy', keyId: 'key_a' });
    expect(warnings[0]?.message).toContain('limits.defaultReservationUsd');
  });

  it('warns of an estimate that arrives unknown, and without any cost estimator', async () => {
    const later = warnedLimiter({ costEstimator: { estimateMaxCostUsd: () => Promise.resolve(null) } });
    await later.subject.admit(budgeted, chat('unpriced'));
    expect(later.warnings.map(({ fields }) => fields)).toEqual([{ model: 'unpriced', keyId: 'key_a' }]);
    const none = warnedLimiter({ costEstimator: undefined });
    none.admit(budgeted, chat('unpriced'));
    expect(none.warnings).toHaveLength(1);
  });

  it('does not warn when something is reserved or there is no budget to hold', () => {
    const reserving = warnedLimiter({ defaultReservationUsd: 0.5 });
    reserving.admit(budgeted, chat('unpriced'));
    const unlimited = warnedLimiter();
    unlimited.admit(key(), chat('unpriced'));
    unlimited.admit(budgeted, chat('priced'));
    expect([...reserving.warnings, ...unlimited.warnings]).toEqual([]);
  });

  it('remembers a bounded number of models: client-chosen names grow neither memory nor the log without end', () => {
    const { admit, warnings } = warnedLimiter();
    const long = 'm'.repeat(100_000);
    admit(budgeted, chat(long));
    const logged = (warnings[0]?.fields as { model: string }).model;
    expect(logged.length).toBeLessThan(300);
    expect(long.startsWith(logged.replace(/…$/, ''))).toBe(true);
    for (let i = 0; i < 1000; i++) admit(budgeted, chat(`model-${i}`));
    // one warning a model up to the bound, then one saying no more come; none again after that
    expect(warnings).toHaveLength(UNESTIMATED_MODELS_WARNED + 1);
    expect(warnings.at(-1)?.message).toContain('no more');
    for (let i = 0; i < 1000; i++) admit(budgeted, chat(`again-${i}`));
    admit(budgeted, chat(long));
    expect(warnings).toHaveLength(UNESTIMATED_MODELS_WARNED + 1);
  });
});
