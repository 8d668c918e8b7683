import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dropRedisKeys } from '../../test/support/redis-keys';
import { admitPlan } from '../../test/support/admit-plan';
import { connectRedis, type RedisConnection } from '../redis/redis-connection';
import { silentLogger } from '@switchyard/proxy-core';
import type { AdmitPlan, AdmitResult, LimitBackend } from './limit-backend';
import { MemoryLimitBackend } from './memory-limit-backend';
import { rateLimitHeaders } from './rate-limit-headers';
import { RedisLimitBackend } from './redis-limit-backend';
import type { SlidingWindow } from './sliding-window';

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

  it.skipIf(!available)(
    'admits exactly rpm requests per window and reports the retry and reset',
    async () => {
      const { backend, scope } = fresh();
      const results = await Promise.all(
        Array.from({ length: 8 }, async () => backend.admit(plan({ scope, rpm: 5 }))),
      );
      expect(results.filter((r) => r.admitted)).toHaveLength(5);
      const rejected = results.find((r) => !r.admitted)!;
      expect(rejected.rejectedBy).toBe('rpm');
      expect(rejected.requests.used).toBe(5);
      // e ms into the window: the estimate falls to 0 at the end of the next one (120 s - e); one
      // more fits once the 5, then the previous window's, have faded below 5: a millisecond into
      // it (60 s - e + 1 ms)
      expect(rejected.requests.resetMs).toBeGreaterThan(60_000);
      expect(rejected.requests.resetMs).toBeLessThanOrEqual(120_000);
      expect(rejected.requests.retryAfterMs).toBe(rejected.requests.resetMs - 59_999);
    },
  );

  it.skipIf(!available)('refuses once the tokens of settled requests reach tpm', async () => {
    const { backend, scope } = fresh();
    const first = await backend.admit(plan({ scope, tpm: 100 }));
    expect(first.admitted).toBe(true);
    await backend.settle(first.lease!, { tokens: 120, costMicros: 0, nowMs: 1_000_100 });
    const second = await backend.admit(plan({ scope, tpm: 100 }));
    expect(second).toMatchObject({ admitted: false, rejectedBy: 'tpm', tokens: { used: 120, limit: 100 } });
    // e ms into the window: its end, then 10 s until 120 tokens fade to 100, and a millisecond
    expect(second.tokens.retryAfterMs).toBe(second.tokens.resetMs - 49_999);
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
  const admitted = (
    backend: MemoryLimitBackend,
    scope: string,
    tries: number,
    nowMs: number,
    rpm = 10,
  ): number =>
    Array.from({ length: tries }, () => backend.admit(plan({ scope, rpm, nowMs }))).filter(
      (result) => result.admitted,
    ).length;

  it('rpm 1: a client at one request a minute is admitted, a millisecond after the window ends', () => {
    const backend = new MemoryLimitBackend();
    expect(backend.admit(plan({ scope: 'w', rpm: 1, nowMs: 0 })).admitted).toBe(true);
    expect(backend.admit(plan({ scope: 'w', rpm: 1, nowMs: 59_999 })).admitted).toBe(false);
    // the window before weighs in full at its end: the estimate is the limit
    const atEdge = backend.admit(plan({ scope: 'w', rpm: 1, nowMs: 60_000 }));
    expect(atEdge).toMatchObject({ admitted: false, requests: { used: 1, retryAfterMs: 1 } });
    expect(backend.admit(plan({ scope: 'w', rpm: 1, nowMs: 60_001 })).admitted).toBe(true);
    // 1 + 0.5: the next one waits for this window's end again
    expect(backend.admit(plan({ scope: 'w', rpm: 1, nowMs: 90_000 })).admitted).toBe(false);
    expect(backend.admit(plan({ scope: 'w', rpm: 1, nowMs: 120_001 })).admitted).toBe(true);
  });

  it('refuses requests right after a window edge while the previous window weighs: never rpm at its end and rpm again at the next start', () => {
    const backend = new MemoryLimitBackend();
    // the first request opens the window at 0; 9 more at its end
    expect(admitted(backend, 'edge', 1, 0)).toBe(1);
    expect(admitted(backend, 'edge', 9, 59_000)).toBe(9);
    // 1 s past the edge: 10 * (59 / 60) = 9.83 is below 10, room for one (fixed windows admitted 10)
    expect(admitted(backend, 'edge', 10, 61_000)).toBe(1);
    const refused = backend.admit(plan({ scope: 'edge', rpm: 10, nowMs: 61_000 }));
    expect(refused.requests.used).toBeCloseTo(1 + 10 * (59 / 60), 12);
    // 1 + 9 = 10 at 6 s in: below it a millisecond later
    expect(refused.requests.retryAfterMs).toBe(5_001);
    expect(admitted(backend, 'edge', 1, 66_000)).toBe(0);
    expect(admitted(backend, 'edge', 10, 66_001)).toBe(1);
    // halfway: 2 + 10 * 0.5 = 7, room for 3
    expect(admitted(backend, 'edge', 10, 90_000)).toBe(3);
    // the next window, 1 second in: the 5 of the one before weigh 4.92, room for 6
    expect(admitted(backend, 'edge', 10, 121_000)).toBe(6);
  });

  it('refuses tokens after the edge while the previous window weighs, until it faded to the limit', () => {
    const backend = new MemoryLimitBackend();
    const ask = (nowMs: number) => backend.admit(plan({ scope: 'tok', tpm: 100, nowMs }));
    backend.settle(ask(0).lease!, { tokens: 120, costMicros: 0, nowMs: 0 });
    expect(ask(30_000)).toMatchObject({ rejectedBy: 'tpm', tokens: { used: 120, retryAfterMs: 40_001 } });
    // 120 * (1 - 10/60) = 100: the limit itself, refused; a millisecond later it is below
    expect(ask(60_000)).toMatchObject({ rejectedBy: 'tpm', tokens: { used: 120, retryAfterMs: 10_001 } });
    expect(ask(69_999).rejectedBy).toBe('tpm');
    expect(ask(70_000).rejectedBy).toBe('tpm');
    expect(ask(70_001).admitted).toBe(true);
  });

  it('sends headers of what the estimate leaves and when it falls to 0', () => {
    const backend = new MemoryLimitBackend();
    const ask = (nowMs: number) => backend.admit(plan({ scope: 'hdr', rpm: 10, tpm: 100, nowMs }));
    for (let i = 0; i < 10; i++) backend.settle(ask(0).lease!, { tokens: 5, costMicros: 0, nowMs: 0 });
    // a window later plus 30 s: half of the 10 requests and 50 tokens weigh
    const later = ask(90_000);
    expect(rateLimitHeaders(later)).toEqual({
      'x-ratelimit-limit-requests': '10',
      // 1 + 5 = 6 after this request
      'x-ratelimit-remaining-requests': '4',
      // this window's request fades by the end of the next window
      'x-ratelimit-reset-requests': '1m30s',
      'x-ratelimit-limit-tokens': '100',
      'x-ratelimit-remaining-tokens': '75',
      // only the previous window's tokens: they are gone at this window's end
      'x-ratelimit-reset-tokens': '30s',
    });
    // a fresh key: no tokens counted, nothing to reset
    expect(rateLimitHeaders(backend.admit(plan({ scope: 'hdr2', rpm: 10, tpm: 100, nowMs: 0 })))).toEqual({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '9',
      'x-ratelimit-reset-requests': '2m0s',
      'x-ratelimit-limit-tokens': '100',
      'x-ratelimit-remaining-tokens': '100',
      'x-ratelimit-reset-tokens': '0ms',
    });
  });

  it('says in x-ratelimit-remaining-requests how many more are admitted at that moment, the fractional part rounded up', () => {
    const backend = new MemoryLimitBackend();
    const ask = (nowMs: number) => backend.admit(plan({ scope: 'left', rpm: 10, nowMs }));
    for (let i = 0; i < 10; i++) ask(0);
    // 27 s into the next window: 10 * 33/60 = 5.5 weigh, 6.5 after this request
    expect(rateLimitHeaders(ask(87_000))['x-ratelimit-remaining-requests']).toBe('4');
    const more = Array.from({ length: 5 }, () => ask(87_000));
    expect(more.map((result) => result.admitted)).toEqual([true, true, true, true, false]);
    expect(rateLimitHeaders(more[3]!)['x-ratelimit-remaining-requests']).toBe('0');
  });

  it('walks its maps to drop idle keys at most once a second while they do not double, not on every admission', () => {
    const backend = new MemoryLimitBackend();
    for (let i = 0; i < 12_000; i++) backend.admit(plan({ scope: `live_${i}`, nowMs: 0 }));
    const iterate = vi.spyOn(Map.prototype, 'entries');
    const walks = vi.spyOn(Map.prototype, Symbol.iterator);
    try {
      for (let i = 0; i < 100; i++) backend.admit(plan({ scope: 'live_0', nowMs: 500 }));
      const within = walks.mock.calls.length + iterate.mock.calls.length;
      backend.admit(plan({ scope: 'live_0', nowMs: 1_500 }));
      const after = walks.mock.calls.length + iterate.mock.calls.length;
      // one walk (four maps) at most in the first second's 100 admissions, one more a second later
      expect(within).toBeLessThanOrEqual(4);
      expect(after).toBeGreaterThan(within);
    } finally {
      iterate.mockRestore();
      walks.mockRestore();
    }
  });

  it('reports usage as the estimate, without opening a window', async () => {
    const backend = new MemoryLimitBackend();
    backend.admit(plan({ scope: 'use', nowMs: 0 }));
    expect(await backend.usage('use', 'total', 90_000)).toMatchObject({
      requests: { used: 0.5, resetMs: 30_000 },
      tokens: { used: 0, resetMs: 0 },
    });
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

// Redis counts on its own clock: a counter's state is written as an earlier window left it,
// relative to Redis's time read just before, and the numbers are checked against the formula
// within the milliseconds that passed until Redis's time read just after.
describe.skipIf(!redisUp)('redis limit backend windows', () => {
  let raw: Redis;
  beforeAll(() => {
    raw = new Redis(TEST_REDIS_URL);
  });
  afterAll(() => {
    raw.disconnect();
  });

  const redisNow = async (): Promise<number> => {
    const [seconds, micros] = await raw.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };
  const counterKey = (scope: string, counter: 'rpm' | 'tpm'): string =>
    `${prefix}limits:{${scope}}:${counter}:sw`;
  const write = async (scope: string, counter: 'rpm' | 'tpm', state: SlidingWindow): Promise<void> => {
    await raw.hset(counterKey(scope, counter), { start: state.start, cur: state.cur, prev: state.prev });
    await raw.pexpire(counterKey(scope, counter), 120_000);
  };
  const fresh = (): { backend: RedisLimitBackend; scope: string } => {
    scopeCounter += 1;
    return { backend: new RedisLimitBackend(connection!), scope: `key_${scopeCounter}` };
  };
  const admitInTurn = async (
    backend: LimitBackend,
    ask: AdmitPlan,
    tries: number,
  ): Promise<AdmitResult[]> => {
    const results: AdmitResult[] = [];
    for (let i = 0; i < tries; i++) results.push(await backend.admit(ask));
    return results;
  };

  it('rolls a counter forward: the window before weighs by the part of it within a minute', async () => {
    const { backend, scope } = fresh();
    const before = await redisNow();
    // a window opened 87 s ago counted 10: now the previous window, 27 s into the current one
    await write(scope, 'rpm', { start: before - 87_000, cur: 10, prev: 0 });
    const results = await admitInTurn(backend, plan({ scope, rpm: 10 }), 8);
    const ttl = await raw.pttl(counterKey(scope, 'rpm'));
    const passed = (await redisNow()) - before;
    // 10 * (1 - (27 s + d) / 60 s) = 5.5 - d / 6 s weighs (d < passed): room for 5 (fixed windows: 8)
    expect(results.filter((result) => result.admitted)).toHaveLength(5);
    const refused = results.find((result) => !result.admitted)!;
    expect(refused.rejectedBy).toBe('rpm');
    expect(refused.requests.used).toBeLessThanOrEqual(10.5);
    expect(refused.requests.used).toBeGreaterThanOrEqual(10.5 - passed / 6_000 - 1e-9);
    // 5 of the limit of 10 left for the previous window's 10: below it just after 30 s into
    // the window, 3 s - d from now
    expect(refused.requests.retryAfterMs).toBeLessThanOrEqual(3_001);
    expect(refused.requests.retryAfterMs).toBeGreaterThanOrEqual(3_001 - passed);
    // the estimate falls to 0 at the end of the next window: 93 s - d
    expect(refused.requests.resetMs).toBeLessThanOrEqual(93_000);
    expect(refused.requests.resetMs).toBeGreaterThanOrEqual(93_000 - passed);
    // written back rolled, and kept two windows after the write
    expect(await raw.hgetall(counterKey(scope, 'rpm'))).toEqual({
      start: String(before - 27_000),
      cur: '5',
      prev: '10',
    });
    expect(ttl).toBeGreaterThan(120_000 - passed - 1);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it('refuses requests right after a window edge while the previous window weighs', async () => {
    const { backend, scope } = fresh();
    const before = await redisNow();
    // 10 in the window that ended 1 s ago: 10 * (59 / 60) = 9.83 weighs
    await write(scope, 'rpm', { start: before - 1_000, cur: 0, prev: 10 });
    const results = await admitInTurn(backend, plan({ scope, rpm: 10 }), 3);
    const passed = (await redisNow()) - before;
    // below 10: one more (fixed windows admitted all 3, and 7 more)
    expect(results.map((result) => result.admitted)).toEqual([true, false, false]);
    const refused = results[1];
    // 1 + 9 = 10 at 6 s into the window: below it a millisecond later
    expect(refused!.requests.retryAfterMs).toBeLessThanOrEqual(5_001);
    expect(refused!.requests.retryAfterMs).toBeGreaterThanOrEqual(5_001 - passed);
    expect(rateLimitHeaders(refused!)['x-ratelimit-remaining-requests']).toBe('0');
  });

  it('refuses tokens while the previous window weighs, and counts settled tokens in the current one', async () => {
    const { backend, scope } = fresh();
    const before = await redisNow();
    // 120 tokens in a window opened a minute ago: the previous window now
    await write(scope, 'tpm', { start: before - 60_000, cur: 120, prev: 0 });
    const refused = await backend.admit(plan({ scope, tpm: 100 }));
    const admitted = await backend.admit(plan({ scope }));
    await backend.settle(admitted.lease!, { tokens: 30, costMicros: 0, nowMs: 0 });
    const usage = await backend.usage(scope, 'total');
    const passed = (await redisNow()) - before;
    expect(refused.rejectedBy).toBe('tpm');
    // 120 fade to 100 at 10 s into the window, below it a millisecond later
    expect(refused.tokens.retryAfterMs).toBeLessThanOrEqual(10_001);
    expect(refused.tokens.retryAfterMs).toBeGreaterThanOrEqual(10_000 - passed);
    expect(usage.tokens.used).toBeLessThanOrEqual(150);
    expect(usage.tokens.used).toBeGreaterThanOrEqual(150 - (120 * passed) / 60_000 - 1e-9);
    expect(usage.tokens.resetMs).toBeLessThanOrEqual(120_000);
    expect(usage.tokens.resetMs).toBeGreaterThanOrEqual(120_000 - passed);
    expect(await raw.hgetall(counterKey(scope, 'tpm'))).toMatchObject({ cur: '30', prev: '120' });
  });

  it('sends headers of what the estimate leaves, beside the string counters of an older version', async () => {
    const { backend, scope } = fresh();
    // an instance of the fixed-window version counts under the old name, a string
    await raw.set(`${prefix}limits:{${scope}}:rpm`, '7', 'PX', 60_000);
    const before = await redisNow();
    await write(scope, 'rpm', { start: before - 27_000, cur: 0, prev: 10 });
    const result = await backend.admit(plan({ scope, rpm: 10 }));
    const passed = (await redisNow()) - before;
    // 1 + 10 * (1 - (27 s + d) / 60 s) = 6.5 - d / 6 s after this request: 4 more are admitted
    // while it is below 10 (3.5 rounded up)
    expect(result.admitted).toBe(true);
    expect(rateLimitHeaders(result)).toMatchObject({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '4',
    });
    // this request fades by the end of the next window: 93 s - d
    expect(result.requests.resetMs).toBeLessThanOrEqual(93_000);
    expect(result.requests.resetMs).toBeGreaterThanOrEqual(93_000 - passed);
    expect(await raw.get(`${prefix}limits:{${scope}}:rpm`)).toBe('7');
  });
});
