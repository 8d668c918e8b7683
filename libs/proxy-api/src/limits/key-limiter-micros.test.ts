import { silentLogger } from '@switchyard/proxy-core';
import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitPlan } from '../../test/support/admit-plan';
import { dropRedisKeys } from '../../test/support/redis-keys';
import type { VirtualKey } from '../keys/virtual-key';
import { connectRedis, type RedisConnection } from '../redis/redis-connection';
import { KeyLimiter, type Admission } from './key-limiter';
import type { LimitBackend } from './limit-backend';
import { MemoryLimitBackend } from './memory-limit-backend';
import { RedisLimitBackend } from './redis-limit-backend';

const redisUp = await requireService('Redis', TEST_REDIS_URL);
let connection: RedisConnection | undefined;
let prefix = '';
const redisBackends: RedisLimitBackend[] = [];

beforeAll(async () => {
  if (!redisUp) return;
  prefix = `t:micros:${Math.random().toString(36).slice(2)}:`;
  connection = await connectRedis({ url: TEST_REDIS_URL, keyPrefix: prefix }, silentLogger);
});

afterAll(async () => {
  for (const backend of redisBackends.splice(0)) backend.close();
  if (connection === undefined) return;
  await dropRedisKeys([prefix]);
  await connection.close();
});

const NOW = Date.UTC(2026, 10, 30, 12);
const input = { model: 'text-embedding-3-small', endpoint: 'embeddings' as const, body: {} };

let keyCounter = 0;
const key = (budgetUsd: number | null): VirtualKey => {
  keyCounter += 1;
  return {
    id: `key_micros_${keyCounter}`,
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
    budgetUsd,
    // never expires: the Redis counters of a past period would be gone at once (PEXPIREAT)
    budgetPeriod: 'total',
    expiresAt: null,
    enabled: true,
    revokedAt: null,
    createdAt: 0,
    updatedAt: 0,
    source: 'store',
  };
};

const backends: Array<[string, () => LimitBackend, boolean]> = [
  ['memory', () => new MemoryLimitBackend(), true],
  [
    'redis',
    () => {
      const backend = new RedisLimitBackend(connection!);
      redisBackends.push(backend);
      return backend;
    },
    redisUp,
  ],
];

describe.each(backends)(
  'KeyLimiter on the %s backend counts spend in micro-dollars rounded up',
  (_name, make, available) => {
    const limiter = (estimateUsd: number, backend: LimitBackend = make()): KeyLimiter =>
      new KeyLimiter({
        backend,
        costEstimator: { estimateMaxCostUsd: () => estimateUsd },
        defaultReservationUsd: 0.5,
        shadow: new Set(),
        budgetStatus: 429,
        now: () => NOW,
        logger: silentLogger,
      });

    /** Admits one request of `budgeted`, settles it at `costUsd`; whether it was admitted and what it reserved. */
    async function cycle(
      subject: KeyLimiter,
      budgeted: VirtualKey,
      costUsd: number,
    ): Promise<{ admitted: boolean; reservedMicros: number }> {
      const admission: Admission = await subject.admit(budgeted, input);
      if (!admission.admitted) return { admitted: false, reservedMicros: 0 };
      await subject.settle(admission.lease, { tokens: 24, costUsd, reachedUpstream: true });
      return { admitted: true, reservedMicros: admission.lease.plan.reserveMicros };
    }

    it.skipIf(!available)(
      'counts a cost below half a micro-dollar as one, so such requests stop at the budget',
      async () => {
        // a 24-token text-embedding-3-small request: $4.8e-7, which rounding to nearest counted as 0
        const subject = limiter(4.8e-7);
        const budgeted = key(0.0001);
        let admitted = 0;
        const reservations = new Set<number>();
        for (let i = 0; i < 150; i += 1) {
          const { admitted: ok, reservedMicros } = await cycle(subject, budgeted, 4.8e-7);
          if (!ok) break;
          reservations.add(reservedMicros);
          admitted += 1;
        }
        expect({
          admitted,
          reservations: [...reservations],
          spent: (await subject.usage(budgeted)).spentMicros,
        }).toEqual({ admitted: 100, reservations: [1], spent: 100 });
      },
    );

    it.skipIf(!available)('rounds a fraction of a micro-dollar up, never to nearest', async () => {
      const subject = limiter(1.4e-6);
      const budgeted = key(1);
      for (let i = 0; i < 10; i += 1)
        expect(await cycle(subject, budgeted, 1.4e-6)).toEqual({ admitted: true, reservedMicros: 2 });
      expect((await subject.usage(budgeted)).spentMicros).toBe(20);
    });

    it.skipIf(!available)(
      'counts a whole number of micro-dollars exactly, through float noise, and nothing as nothing',
      async () => {
        const backend = make();
        const budgeted = key(1_000_000);
        // 0.000003 * 1e6 is 3 exactly, 0.000123 * 1e6 is 123.00000000000001, 0.1 + 0.2 is
        // 0.30000000000000004, and 1,160,000 tokens at $2.5/M plus 10,000 at $10/M make
        // 3000000.0000000005 micros: float noise, not a fraction of a micro-dollar to round up
        const costs: Array<[number, number]> = [
          [0.000003, 3],
          [0.000123, 123],
          [0.1 + 0.2, 300_000],
          [(1_160_000 * 2.5) / 1e6 + (10_000 * 10) / 1e6, 3_000_000],
          [0, 0],
        ];
        let total = 0;
        for (const [usd, micros] of costs) {
          expect({ usd, ...(await cycle(limiter(usd, backend), budgeted, usd)) }).toEqual({
            usd,
            admitted: true,
            reservedMicros: micros,
          });
          total += micros;
          expect({ usd, spent: (await limiter(0, backend).usage(budgeted)).spentMicros }).toEqual({
            usd,
            spent: total,
          });
        }
      },
    );
  },
);

describe('RedisLimitBackend', () => {
  it.skipIf(!redisUp)(
    'rounds a fraction of a micro-dollar it is handed up, in a settlement and in a debt',
    async () => {
      const backend = new RedisLimitBackend(connection!);
      redisBackends.push(backend);
      const scope = `key_micros_${(keyCounter += 1)}`;
      const admitted = await backend.admit(admitPlan({ scope, budgetMicros: 1_000 }));
      await backend.settle(admitted.lease!, { tokens: 0, costMicros: 0.4, nowMs: 1_000_000 });
      expect(await backend.addSpend(scope, 'total', [{ id: 'debt_a', micros: 1.2 }], null)).toBe(2);
      expect((await backend.usage(scope, 'total')).spentMicros).toBe(3);
    },
  );
});
