import { getHeapSpaceStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import {
  IdleMemoryRelease,
  processMemoryProbe,
  releaseMemoryWhenIdle,
  type IdleMemoryProbe,
} from './idle-memory-release';

/** A probe whose event-loop utilisation the test sets, recording the collections asked for. */
function fakeProbe(): IdleMemoryProbe & { load: number; collected: string[] } {
  return {
    load: 0,
    collected: [],
    utilization() {
      return this.load;
    },
    collect(type) {
      this.collected.push(type);
    },
  };
}

describe('IdleMemoryRelease', () => {
  it('runs a young-generation collection, then a full one, at two idle checks, then nothing (start-up counts as busy)', () => {
    const probe = fakeProbe();
    const release = new IdleMemoryRelease(probe);
    expect(release.check()).toBe('minor');
    expect(release.check()).toBe('full');
    expect(release.check()).toBeUndefined();
    expect(release.check()).toBeUndefined();
    expect(probe.collected).toEqual(['minor', 'full']);
    expect(release.collections).toBe(2);
  });

  it('never collects while the event loop is busy, and starts a new spell after a busy check', () => {
    const probe = fakeProbe();
    const release = new IdleMemoryRelease(probe);
    probe.load = 0.4;
    expect(release.check()).toBeUndefined();
    expect(probe.collected).toEqual([]);
    probe.load = 0;
    expect(release.check()).toBe('minor');
    // busy between the two: the spell starts over with a young-generation collection
    probe.load = 0.02;
    expect(release.check()).toBeUndefined();
    probe.load = 0.001;
    expect(release.check()).toBe('minor');
    expect(release.check()).toBe('full');
    expect(release.check()).toBeUndefined();
    // a busy spell, then idle again: memory is given back again
    probe.load = 0.5;
    expect(release.check()).toBeUndefined();
    probe.load = 0;
    expect(release.check()).toBe('minor');
    expect(release.check()).toBe('full');
    expect(probe.collected).toEqual(['minor', 'minor', 'full', 'minor', 'full']);
  });
});

describe('processMemoryProbe', () => {
  it("reads this process's event-loop utilisation, and collects without a --expose-gc flag", async () => {
    const hadGc = 'gc' in globalThis;
    const probe = processMemoryProbe();
    const utilization = probe.utilization();
    expect(utilization).toBeGreaterThanOrEqual(0);
    expect(utilization).toBeLessThanOrEqual(1);
    // a young-generation collection empties new space of garbage just allocated
    const newSpaceUsed = (): number =>
      getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_used_size ?? 0;
    let garbage: string[] | undefined = Array.from({ length: 20_000 }, (_, i) => `garbage ${i}`);
    expect(garbage).toHaveLength(20_000);
    garbage = undefined;
    const before = newSpaceUsed();
    probe.collect('minor');
    expect(newSpaceUsed()).toBeLessThan(before / 2);
    // a full collection also clears weak references to unreachable objects (a scavenge keeps them)
    let target: object | undefined = { held: 'weakly' };
    const weak = new WeakRef(target);
    target = undefined;
    // a WeakRef keeps its target alive until the current job ends
    await new Promise((resolve) => setImmediate(resolve));
    probe.collect('full');
    expect(weak.deref()).toBeUndefined();
    // and the main context's globals stay as they were, as do those of contexts made later
    expect('gc' in globalThis).toBe(hadGc);
    expect(runInNewContext('typeof gc')).toBe(hadGc ? 'function' : 'undefined');
  });
});

describe('releaseMemoryWhenIdle', () => {
  it('refuses a period too short to see an idle allocation rate', () => {
    expect(() => releaseMemoryWhenIdle({ idleMs: 1000 })).toThrow(
      /idleMs must be an integer of at least 5000/,
    );
    expect(() => releaseMemoryWhenIdle({ idleMs: 10_000.5 })).toThrow(/idleMs/);
  });

  it('refuses a period past the longest timer, which Node would run every 1 ms', () => {
    expect(() => releaseMemoryWhenIdle({ idleMs: 3_000_000_000 })).toThrow(
      'releaseMemoryWhenIdle: idleMs: 3000000000 ms is above 2147483647 ms (about 24.8 days), the longest a Node.js timer waits',
    );
  });

  it('checks on one timer, which the returned function stops', () => {
    vi.useFakeTimers();
    try {
      const before = vi.getTimerCount();
      const stop = releaseMemoryWhenIdle({ idleMs: 60_000 });
      expect(vi.getTimerCount()).toBe(before + 1);
      stop();
      expect(vi.getTimerCount()).toBe(before);
    } finally {
      vi.useRealTimers();
    }
  });
});
