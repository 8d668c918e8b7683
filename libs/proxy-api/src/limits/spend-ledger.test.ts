import { silentLogger } from '@switchyard/proxy-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { admitPlan } from '../../test/support/admit-plan';
import { MemoryKeyStore } from '../keys/memory-key-store';
import type { AdmitPlan } from './limit-backend';
import { MemoryLimitBackend } from './memory-limit-backend';
import { SpendLedger } from './spend-ledger';

const plan = (seedSpentMicros = 0): AdmitPlan => admitPlan({ seedSpentMicros });

afterEach(() => {
  vi.useRealTimers();
});

describe('SpendLedger', () => {
  it('flushes touched keys on its interval, and stored totals never go down', async () => {
    vi.useFakeTimers();
    const store = new MemoryKeyStore();
    const backend = new MemoryLimitBackend();
    const ledger = new SpendLedger({
      store,
      backend,
      flushIntervalMs: 1_000,
      maxEntries: 100,
      seedTtlMs: 10_000,
      now: Date.now,
      logger: silentLogger,
    });
    const { lease } = backend.admit(plan());
    backend.settle(lease!, { tokens: 0, costMicros: 700, nowMs: 0 });
    ledger.touch('key_a', 'total');
    expect(await store.readSpend('key_a', 'total')).toBe(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await store.readSpend('key_a', 'total')).toBe(700);
    // another instance flushing an older, lower view of the same counter changes nothing
    await store.writeSpend([{ keyId: 'key_a', periodId: 'total', spentMicros: 300 }]);
    expect(await store.readSpend('key_a', 'total')).toBe(700);
    await ledger.close();
  });

  it('seeds a lost counter from the store and flushes the sum on close', async () => {
    const store = new MemoryKeyStore();
    await store.writeSpend([{ keyId: 'key_a', periodId: 'total', spentMicros: 1_000 }]);
    const backend = new MemoryLimitBackend();
    const ledger = new SpendLedger({
      store,
      backend,
      flushIntervalMs: 0,
      maxEntries: 100,
      seedTtlMs: 10_000,
      now: Date.now,
      logger: silentLogger,
    });
    const seed = await ledger.persisted('key_a', 'total');
    expect(seed).toBe(1_000);
    const { lease, spentMicros } = backend.admit(plan(seed));
    expect(spentMicros).toBe(1_000);
    backend.settle(lease!, { tokens: 0, costMicros: 250, nowMs: 0 });
    ledger.touch('key_a', 'total');
    await ledger.close();
    expect(await store.readSpend('key_a', 'total')).toBe(1_250);
  });

  it("reads the touched keys' live spend together on close, so a hung Redis costs one command timeout, not one per key", async () => {
    const store = new MemoryKeyStore();
    const backend = new MemoryLimitBackend();
    const keys = ['key_a', 'key_b', 'key_c'];
    // each read answers only once every key's read has started: reads one after another never finish
    let started = 0;
    let allStarted: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => (allStarted = resolve));
    const usage = backend.usage.bind(backend);
    backend.usage = async (scope, periodId, nowMs) => {
      started += 1;
      if (started === keys.length) allStarted();
      await barrier;
      return usage(scope, periodId, nowMs);
    };
    const ledger = new SpendLedger({
      store,
      backend,
      flushIntervalMs: 0,
      maxEntries: 100,
      seedTtlMs: 10_000,
      now: Date.now,
      logger: silentLogger,
    });
    for (const key of keys) {
      const { lease } = backend.admit(admitPlan({ scope: key }));
      backend.settle(lease!, { tokens: 0, costMicros: 100, nowMs: 0 });
      ledger.touch(key, 'total');
    }
    await ledger.close();
    expect(await Promise.all(keys.map(async (key) => store.readSpend(key, 'total')))).toEqual([
      100, 100, 100,
    ]);
  });
});
