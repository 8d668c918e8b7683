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

describe('SpendLedger with a store that is slow or down', () => {
  /**
   * A store whose spend writes each wait for the test: `answer(ok)` settles the oldest write
   * still waiting, written when `ok`, failed otherwise.
   */
  function heldWrites(): {
    store: MemoryKeyStore;
    attempts: () => number;
    waiting: () => number;
    answer: (ok: boolean) => void;
  } {
    const store = new MemoryKeyStore();
    const write = store.writeSpend.bind(store);
    let attempts = 0;
    const waiting: Array<(ok: boolean) => void> = [];
    store.writeSpend = async (entries) => {
      attempts += 1;
      const ok = await new Promise<boolean>((resolve) => waiting.push(resolve));
      if (!ok) throw new Error('Query read timeout');
      await write(entries);
    };
    return {
      store,
      attempts: () => attempts,
      waiting: () => waiting.length,
      answer: (ok) => waiting.shift()?.(ok),
    };
  }

  /** Waits for `done`, failing at once if a write starts meanwhile (one more than expected). */
  async function expectNoMoreWrites(done: Promise<unknown>, waiting: () => number): Promise<void> {
    let settled = false;
    void done.then(() => void (settled = true));
    await vi.waitFor(() => expect(settled || waiting() > 0).toBe(true), UNTIL_SETTLED);
    expect(waiting()).toBe(0);
  }

  /** A logger that keeps its errors: each message with its fields. */
  function errors(): { logger: typeof silentLogger; lines: Array<[string, object]> } {
    const lines: Array<[string, object]> = [];
    const note = (fields: object, message?: string): void => void lines.push([message ?? '', fields]);
    return { logger: { ...silentLogger, error: note }, lines };
  }

  it('runs at most one flush after the one still writing, however many are asked for meanwhile', async () => {
    const { store, attempts, waiting, answer } = heldWrites();
    const ledger = quietLedger(store, {});
    ledger.touch('key_a', 'total');
    const flushes = [ledger.flush()];
    await vi.waitFor(() => expect(waiting()).toBe(1), UNTIL_SETTLED);
    // 30 flush ticks of a PostgreSQL that does not answer
    for (let tick = 0; tick < 30; tick++) flushes.push(ledger.flush());
    answer(false); // the write fails: its keys go back for the next flush
    await vi.waitFor(() => expect(waiting()).toBe(1), UNTIL_SETTLED);
    answer(false);
    await expectNoMoreWrites(Promise.all(flushes), waiting);
    expect(attempts()).toBe(2);
    // a flush asked for later still writes
    const later = ledger.flush();
    await vi.waitFor(() => expect(waiting()).toBe(1), UNTIL_SETTLED);
    answer(true);
    await later;
    expect(attempts()).toBe(3);
    expect(await store.readSpend('key_a', 'total')).toBe(0); // nothing settled on the backend: 0 written
  });

  it('writes once more on close after the write still running, not once per flush asked for', async () => {
    const { store, attempts, waiting, answer } = heldWrites();
    const ledger = quietLedger(store, {});
    ledger.touch('key_a', 'total');
    const flushes = [ledger.flush()];
    await vi.waitFor(() => expect(waiting()).toBe(1), UNTIL_SETTLED);
    for (let tick = 0; tick < 10; tick++) flushes.push(ledger.flush());
    const closed = ledger.close();
    answer(false);
    await vi.waitFor(() => expect(waiting()).toBe(1), UNTIL_SETTLED);
    answer(false);
    await expectNoMoreWrites(Promise.all([closed, ...flushes]), waiting);
    expect(attempts()).toBe(2);
  });

  it('backs off after failed periodic flushes, doubling the wait up to a minute, and flushes on its interval again once one succeeds', async () => {
    vi.useFakeTimers();
    const store = new MemoryKeyStore();
    const write = store.writeSpend.bind(store);
    let down = true;
    const at: number[] = [];
    const start = Date.now();
    store.writeSpend = async (entries) => {
      at.push(Date.now() - start);
      if (down) throw new Error('Connection terminated');
      await write(entries);
    };
    const ledger = quietLedger(store, { flushIntervalMs: 10_000 });
    ledger.touch('key_a', 'total');
    await vi.advanceTimersByTimeAsync(10_000 + 20_000 + 40_000 + 60_000 + 60_000);
    expect(at).toEqual([10_000, 30_000, 70_000, 130_000, 190_000]);
    down = false;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(at).toHaveLength(6);
    ledger.touch('key_a', 'total');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(at).toEqual([10_000, 30_000, 70_000, 130_000, 190_000, 250_000, 260_000]);
    await ledger.close();
  });

  it('gives up on a store that does not answer after closeTimeoutMs on close, saying how many keys were not written', async () => {
    vi.useFakeTimers();
    const { store, waiting, answer } = heldWrites();
    const { logger, lines } = errors();
    const ledger = quietLedger(store, { closeTimeoutMs: 5_000, logger });
    ledger.touch('key_a', 'total');
    const running = ledger.flush();
    await vi.waitFor(() => expect(waiting()).toBe(1));
    ledger.touch('key_b', 'total');
    let closed = false;
    const closing = ledger.close().then(() => void (closed = true));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(closed).toBe(true);
    await closing;
    // key_a in the write that hangs, key_b touched since
    expect(lines).toEqual([
      [
        'key spend not written to the store on close: it did not answer within the flush timeout',
        { keys: 2, timeoutMs: 5_000 },
      ],
    ]);
    answer(false);
    await running;
  });
});
