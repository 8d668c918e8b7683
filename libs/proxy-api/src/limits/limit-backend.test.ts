import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropRedisKeys } from '../../test/support/redis-keys';
import { admitPlan } from '../../test/support/admit-plan';
import { connectRedis, type RedisConnection } from '../redis/redis-connection';
import { silentLogger } from '@switchyard/proxy-core';
import type { AdmitPlan, LimitBackend } from './limit-backend';
import { MemoryLimitBackend } from './memory-limit-backend';
import { RedisLimitBackend } from './redis-limit-backend';

const redisUp = await requireService('Redis', TEST_REDIS_URL);
let connection: RedisConnection | undefined;
let prefix = '';

beforeAll(async () => {
  if (!redisUp) return;
  prefix = `t:limits:${Math.random().toString(36).slice(2)}:`;
  connection = await connectRedis({ url: TEST_REDIS_URL, keyPrefix: prefix }, silentLogger);
});

afterAll(async () => {
  if (connection === undefined) return;
  await dropRedisKeys([prefix]);
  await connection.close();
});

let scopeCounter = 0;
const plan = (overrides: Partial<AdmitPlan> = {}): AdmitPlan =>
  admitPlan({ scope: `key_${scopeCounter}`, nowMs: 1_000_000, ...overrides });

const backends: Array<[string, () => LimitBackend, boolean]> = [
  ['memory', () => new MemoryLimitBackend(), true],
  ['redis', () => new RedisLimitBackend(connection!), redisUp],
];

describe.each(backends)('%s limit backend', (_name, make, available) => {
  const fresh = (): { backend: LimitBackend; scope: string } => {
    scopeCounter += 1;
    return { backend: make(), scope: `key_${scopeCounter}` };
  };

  it.skipIf(!available)('admits exactly rpm requests per window and reports the reset', async () => {
    const { backend, scope } = fresh();
    const results = await Promise.all(
      Array.from({ length: 8 }, async () => backend.admit(plan({ scope, rpm: 5 }))),
    );
    expect(results.filter((r) => r.admitted)).toHaveLength(5);
    const rejected = results.find((r) => !r.admitted)!;
    expect(rejected.rejectedBy).toBe('rpm');
    expect(rejected.requests.resetMs).toBeGreaterThan(0);
    expect(rejected.requests.resetMs).toBeLessThanOrEqual(60_000);
  });

  it.skipIf(!available)('refuses once the tokens of settled requests reach tpm', async () => {
    const { backend, scope } = fresh();
    const first = await backend.admit(plan({ scope, tpm: 100 }));
    expect(first.admitted).toBe(true);
    await backend.settle(first.lease!, { tokens: 120, costMicros: 0, nowMs: 1_000_100 });
    const second = await backend.admit(plan({ scope, tpm: 100 }));
    expect(second).toMatchObject({ admitted: false, rejectedBy: 'tpm', tokens: { used: 120, limit: 100 } });
  });

  it.skipIf(!available)('holds parallel slots until settled', async () => {
    const { backend, scope } = fresh();
    const results = await Promise.all(
      Array.from({ length: 5 }, async () => backend.admit(plan({ scope, parallel: 2 }))),
    );
    expect(results.filter((r) => r.admitted)).toHaveLength(2);
    expect(results.find((r) => !r.admitted)?.rejectedBy).toBe('parallel');
    await backend.settle(results.find((r) => r.admitted)!.lease!, {
      tokens: 0,
      costMicros: 0,
      nowMs: 1_000_000,
    });
    expect((await backend.admit(plan({ scope, parallel: 2 }))).admitted).toBe(true);
  });

  it.skipIf(!available)(
    'reserves before and reconciles after: concurrent requests cannot overshoot the budget',
    async () => {
      const { backend, scope } = fresh();
      const ask = (): AdmitPlan => plan({ scope, budgetMicros: 1_500_000, reserveMicros: 1_000_000 });
      const results = await Promise.all(Array.from({ length: 20 }, async () => backend.admit(ask())));
      expect(results.filter((r) => r.admitted)).toHaveLength(1);
      expect(results.find((r) => !r.admitted)?.rejectedBy).toBe('budget');
      // the request actually cost less than reserved: the difference is free again
      await backend.settle(results.find((r) => r.admitted)!.lease!, {
        tokens: 0,
        costMicros: 200_000,
        nowMs: 1_000_000,
      });
      const usage = await backend.usage(scope, 'total', 1_000_000);
      expect(usage).toMatchObject({ spentMicros: 200_000, reservedMicros: 0 });
      expect((await backend.admit(ask())).admitted).toBe(true);
      expect((await backend.admit(ask())).admitted).toBe(false);
    },
  );

  it.skipIf(!available)(
    'refuses any request once spend reaches the budget, even with no reservation',
    async () => {
      const { backend, scope } = fresh();
      const first = await backend.admit(plan({ scope, budgetMicros: 100 }));
      await backend.settle(first.lease!, { tokens: 0, costMicros: 100, nowMs: 1_000_000 });
      expect((await backend.admit(plan({ scope, budgetMicros: 100 }))).rejectedBy).toBe('budget');
    },
  );

  it.skipIf(!available)(
    "raises a counter made before the store's total was read to that total, so a budget is not spent again",
    async () => {
      const { backend, scope } = fresh();
      // a restart, and a first read of the store too slow to wait for: counted from 0
      const early = await backend.admit(plan({ scope, budgetMicros: 1_000_000, seedSpentMicros: 0 }));
      await backend.settle(early.lease!, { tokens: 0, costMicros: 10_000, nowMs: 1_000_000 });
      // the read lands: 950000 were spent before the restart
      const next = await backend.admit(
        plan({ scope, budgetMicros: 1_000_000, seedSpentMicros: 950_000, reserveMicros: 100_000 }),
      );
      expect({ rejectedBy: next.rejectedBy, spent: next.spentMicros }).toEqual({
        rejectedBy: 'budget',
        spent: 950_000,
      });
      // a lower seed (an older view) never lowers the counter
      expect((await backend.admit(plan({ scope, seedSpentMicros: 5 }))).spentMicros).toBe(950_000);
    },
  );

  it.skipIf(!available)('counts shadowed limits without enforcing them', async () => {
    const { backend, scope } = fresh();
    const shadow = new Set(['rpm'] as const);
    const results = await Promise.all(
      Array.from({ length: 4 }, async () => backend.admit(plan({ scope, rpm: 2, shadow }))),
    );
    expect(results.every((r) => r.admitted)).toBe(true);
    expect(results.filter((r) => r.wouldReject.includes('rpm'))).toHaveLength(2);
  });

  it.skipIf(!available)('keeps budgets of different periods apart', async () => {
    const { backend, scope } = fresh();
    const day1 = await backend.admit(
      plan({
        scope,
        budgetMicros: 10,
        budgetPeriodId: 'd2026-11-23',
        budgetExpiresAtMs: Date.now() + 86_400_000,
      }),
    );
    await backend.settle(day1.lease!, { tokens: 0, costMicros: 10, nowMs: 1 });
    expect(
      (
        await backend.admit(
          plan({
            scope,
            budgetMicros: 10,
            budgetPeriodId: 'd2026-11-23',
            budgetExpiresAtMs: Date.now() + 86_400_000,
          }),
        )
      ).admitted,
    ).toBe(false);
    expect(
      (
        await backend.admit(
          plan({
            scope,
            budgetMicros: 10,
            budgetPeriodId: 'd2026-11-24',
            budgetExpiresAtMs: Date.now() + 2 * 86_400_000,
          }),
        )
      ).admitted,
    ).toBe(true);
  });
});

describe('memory limit backend windows', () => {
  it('resets the request window after a minute', async () => {
    const backend = new MemoryLimitBackend();
    expect(backend.admit(plan({ scope: 'w', rpm: 1, nowMs: 0 })).admitted).toBe(true);
    expect(backend.admit(plan({ scope: 'w', rpm: 1, nowMs: 59_999 })).admitted).toBe(false);
    expect(backend.admit(plan({ scope: 'w', rpm: 1, nowMs: 60_000 })).admitted).toBe(true);
  });

  it('a request in flight longer than 15 minutes keeps its parallel slot when the counters are swept', () => {
    const backend = new MemoryLimitBackend();
    const long = backend.admit(plan({ scope: 'long', parallel: 1, nowMs: 0 }));
    expect(long.admitted).toBe(true);
    const later = 16 * 60_000;
    // enough other keys to make an admission sweep its maps
    for (let i = 0; i < 10_000; i++) backend.admit(plan({ scope: `other_${i}`, nowMs: later }));
    expect(backend.admit(plan({ scope: 'long', parallel: 1, nowMs: later })).rejectedBy).toBe('parallel');
    backend.settle(long.lease!, { tokens: 0, costMicros: 0, nowMs: later });
    expect(backend.admit(plan({ scope: 'long', parallel: 1, nowMs: later })).admitted).toBe(true);
  });
});
