import { silentLogger } from '@switchyard/proxy-core';
import { UNTIL_SETTLED } from '@switchyard/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { admitPlan } from '../../test/support/admit-plan';
import { MemoryKeyStore } from '../keys/memory-key-store';
import type { AdmitPlan } from './limit-backend';
import { MemoryLimitBackend } from './memory-limit-backend';
import { SpendLedger, type SpendLedgerOptions } from './spend-ledger';

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

  /** A ledger over `store` that flushes only on close, reuses a read for 10 s, and says nothing. */
  function quietLedger(store: MemoryKeyStore, options: Partial<SpendLedgerOptions>): SpendLedger {
    return new SpendLedger({
      store,
      backend: new MemoryLimitBackend(),
      flushIntervalMs: 0,
      maxEntries: 100,
      seedTtlMs: 10_000,
      now: Date.now,
      logger: silentLogger,
      ...options,
    });
  }

  /** A store whose spend reads hang while `frozen`, each hung read answered by `thaw()`. */
  function freezableStore(): {
    store: MemoryKeyStore;
    reads: () => number;
    freeze: () => void;
    thaw: () => void;
  } {
    const store = new MemoryKeyStore();
    const read = store.readSpend.bind(store);
    let frozen = false;
    let reads = 0;
    const waiting: Array<() => void> = [];
    store.readSpend = async (keyId, periodId) => {
      reads += 1;
      if (frozen) await new Promise<void>((resolve) => waiting.push(resolve));
      return read(keyId, periodId);
    };
    return {
      store,
      reads: () => reads,
      freeze: () => void (frozen = true),
      thaw: () => {
        frozen = false;
        for (const resolve of waiting.splice(0)) resolve();
      },
    };
  }

  it('answers a spend past its reuse time at once while the store hangs, and reads it again in the background', async () => {
    const { store, reads, freeze, thaw } = freezableStore();
    await store.writeSpend([{ keyId: 'key_a', periodId: 'total', spentMicros: 500 }]);
    let now = 1_000_000;
    const ledger = quietLedger(store, { readTimeoutMs: 2_000, now: () => now });
    expect(await ledger.seed('key_a', 'total')).toBe(500);
    expect(reads()).toBe(1);
    freeze();
    await store.writeSpend([{ keyId: 'key_a', periodId: 'total', spentMicros: 800 }]);
    now += 10_001;
    // synchronous: no admission of the key waits for the store
    expect(ledger.seed('key_a', 'total')).toBe(500);
    expect(ledger.seed('key_a', 'total')).toBe(500);
    expect(reads()).toBe(2);
    thaw();
    await vi.waitFor(() => expect(ledger.seed('key_a', 'total')).toBe(800), UNTIL_SETTLED);
    expect(reads()).toBe(2);
  });

  it("waits at most readTimeoutMs for a key's first read, then counts from the live counter", async () => {
    const { store, freeze, thaw } = freezableStore();
    await store.writeSpend([{ keyId: 'key_a', periodId: 'total', spentMicros: 500 }]);
    freeze();
    const ledger = quietLedger(store, { readTimeoutMs: 20 });
    await expect(ledger.seed('key_a', 'total')).resolves.toBe(0);
    // the read that timed out still lands, for the admissions after it
    thaw();
    await vi.waitFor(() => expect(ledger.seed('key_a', 'total')).toBe(500), UNTIL_SETTLED);
  });
});
