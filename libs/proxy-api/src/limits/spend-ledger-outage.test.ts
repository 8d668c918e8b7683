import { randomBytes } from 'node:crypto';
import { silentLogger } from '@switchyard/proxy-core';
import { requireService, TEST_REDIS_URL, UNTIL_SETTLED } from '@switchyard/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dropRedisKeys } from '../../test/support/redis-keys';
import { MemoryKeyStore } from '../keys/memory-key-store';
import type { VirtualKey } from '../keys/virtual-key';
import { connectRedis, type RedisConnection } from '../redis/redis-connection';
import { FailoverLimitBackend, type SharedLimitBackend } from './failover-limit-backend';
import { KeyLimiter } from './key-limiter';
import { MemoryLimitBackend } from './memory-limit-backend';
import { RedisLimitBackend } from './redis-limit-backend';
import { SpendLedger } from './spend-ledger';

const redisUp = await requireService('Redis', TEST_REDIS_URL);

const MICROS = 1_000_000;
const key = {
  id: 'key_outage',
  budgetUsd: 100,
  budgetPeriod: 'total',
  rpm: null,
  tpm: null,
  maxParallel: null,
} as VirtualKey;
const input = { model: 'm', endpoint: 'chat' as const, body: {} };

const connections: RedisConnection[] = [];
const limiters: KeyLimiter[] = [];
const prefixes: string[] = [];
const gates: ReplayGate[] = [];

afterEach(async () => {
  // a replay still held would hold up close()
  for (const gate of gates.splice(0)) gate.release();
  await Promise.all(limiters.splice(0).map((limiter) => limiter.close()));
  await Promise.all(connections.splice(0).map((connection) => connection.close()));
  await dropRedisKeys(prefixes.splice(0));
});

/** Holds the replays of spend owed to Redis until `release()`, and counts those answered. */
interface ReplayGate {
  held: boolean;
  release: () => void;
  answered: number;
}

/**
 * One gateway instance's limits on the shared Redis: fail-open, with a spend ledger on `store`
 * that flushes only when the test says. `down` makes every Redis command fail, as an outage does.
 */
async function connect(keyPrefix: string): Promise<RedisConnection> {
  const connection = await connectRedis({ url: TEST_REDIS_URL, keyPrefix }, silentLogger);
  connections.push(connection);
  return connection;
}

async function instance(keyPrefix: string, store: MemoryKeyStore, gate?: ReplayGate) {
  const real = await connect(keyPrefix);
  const state = { down: false };
  const redis: RedisConnection = {
    ...real,
    run: (command) =>
      state.down ? Promise.reject(new Error('Redis did not answer within 500 ms.')) : real.run(command),
  };
  const shared = new RedisLimitBackend(redis);
  const opened = new Promise<void>((resolve) => {
    if (gate !== undefined) gate.release = resolve;
  });
  if (gate !== undefined) gates.push(gate);
  const primary: SharedLimitBackend = {
    kind: 'redis',
    admit: (plan) => shared.admit(plan),
    settle: (lease, actual) => shared.settle(lease, actual),
    usage: (scope, periodId) => shared.usage(scope, periodId),
    ping: () => shared.ping(),
    close: () => shared.close(),
    addSpend: async (...args) => {
      if (gate?.held === true) await opened;
      const added = await shared.addSpend(...args);
      if (gate !== undefined) gate.answered += 1;
      return added;
    },
  };
  const backend = new FailoverLimitBackend(primary, new MemoryLimitBackend(), 'open', silentLogger);
  const ledger = new SpendLedger({
    store,
    backend,
    flushIntervalMs: 0,
    maxEntries: 100,
    seedTtlMs: 60_000,
    now: Date.now,
    logger: silentLogger,
  });
  const limiter = new KeyLimiter({
    backend,
    costEstimator: undefined,
    defaultReservationUsd: 0,
    shadow: new Set(),
    budgetStatus: 429,
    now: Date.now,
    logger: silentLogger,
    ledger,
  });
  limiters.push(limiter);
  const spend = async (usd: number): Promise<void> => {
    const admission = await limiter.admit(key, input);
    if (!admission.admitted) throw admission.error;
    await limiter.settle(admission.lease, { tokens: 1, costUsd: usd, reachedUpstream: true });
  };
  return { state, ledger, limiter, spend, primary };
}

function prefix(): string {
  const keyPrefix = `t:outage:${randomBytes(6).toString('hex')}:`;
  prefixes.push(keyPrefix);
  return keyPrefix;
}

const stored = async (store: MemoryKeyStore): Promise<number> =>
  (await store.readSpend(key.id, 'total')) / MICROS;

describe.skipIf(!redisUp)('spend settled during a Redis outage, persisted and replayed', () => {
  it('is counted once when the flush during the outage persisted it and the next admission raises Redis to that total', async () => {
    const store = new MemoryKeyStore();
    const a = await instance(prefix(), store);
    await a.spend(1); // on Redis
    a.state.down = true;
    await a.spend(2); // on the local fallback: owed to Redis
    await a.ledger.flush(); // the periodic flush, during the outage
    a.state.down = false;
    await a.spend(0.5); // its admission carries the persisted total; the $2 is then replayed
    await vi.waitFor(
      async () => expect((await a.primary.usage(key.id, 'total', 0)).spentMicros).toBe(3.5 * MICROS),
      UNTIL_SETTLED,
    );
    expect((await a.limiter.usage(key)).spentMicros).toBe(3.5 * MICROS);
    await a.ledger.flush();
    expect(await stored(store)).toBe(3.5);
  });

  it('is counted once when another instance raises Redis to the flushed total before the owing instance replays it', async () => {
    const store = new MemoryKeyStore();
    const keyPrefix = prefix();
    const gate: ReplayGate = { held: true, release: () => {}, answered: 0 };
    const a = await instance(keyPrefix, store, gate);
    await a.spend(1);
    a.state.down = true;
    await a.spend(2);
    a.state.down = false;
    // Redis answers again, and A's flush runs before its replay lands: the $2 is not persisted yet
    await a.ledger.flush();
    expect(await stored(store)).toBe(1);
    // while A still counts it against its own admissions
    expect((await a.limiter.usage(key)).spentMicros).toBe(3 * MICROS);
    const b = await instance(keyPrefix, store);
    await b.spend(0.5); // B's admission carries the persisted total
    gate.held = false;
    gate.release();
    await a.spend(0);
    await vi.waitFor(() => expect(gate.answered).toBe(1), UNTIL_SETTLED);
    expect((await b.limiter.usage(key)).spentMicros).toBe(3.5 * MICROS);
    // A's next flush writes the key again, now that Redis has the $2
    await a.ledger.flush();
    expect(await stored(store)).toBe(3.5);
  });

  it('is sent to Redis on close when Redis answers again, and reaches the store either way', async () => {
    for (const back of [true, false]) {
      const store = new MemoryKeyStore();
      const keyPrefix = prefix();
      const a = await instance(keyPrefix, store);
      await a.spend(1);
      a.state.down = true;
      await a.spend(2);
      a.state.down = !back;
      await a.limiter.close();
      expect(await stored(store), `Redis back: ${back}`).toBe(3);
      const observer = new RedisLimitBackend(await connect(keyPrefix));
      expect((await observer.usage(key.id, 'total')).spentMicros, `Redis back: ${back}`).toBe(
        (back ? 3 : 1) * MICROS,
      );
    }
  });
});
