import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it, vi } from 'vitest';
import {
  IdleMemoryRelease,
  processMemoryProbe,
  releaseMemoryWhenIdle,
  type IdleMemoryProbe,
} from './idle-memory-release';

const MiB = 1024 * 1024;

/** A probe whose readings the test sets; like V8, its second collection of an idle spell shrinks. */
function fakeProbe(): IdleMemoryProbe & { load: number; young: number; collected: number } {
  let inSpell = 0;
  return {
    load: 0,
    young: 32 * MiB,
    collected: 0,
    utilization() {
      if (this.load > 0.01) inSpell = 0;
      return this.load;
    },
    youngBytes() {
      return this.young;
    },
    collect() {
      this.collected++;
      if (++inSpell === 2) this.young = MiB;
    },
  };
}

describe('IdleMemoryRelease', () => {
  it('collects at two idle checks, then stops (start-up counts as busy)', () => {
    const probe = fakeProbe();
    const release = new IdleMemoryRelease(probe);
    expect(release.check()).toBe(true);
    expect(release.check()).toBe(true);
    expect(probe.young).toBe(MiB);
    // still idle: nothing more, even if the young generation were large again
    probe.young = 32 * MiB;
    expect(release.check()).toBe(false);
    expect(release.check()).toBe(false);
    expect(probe.collected).toBe(2);
    expect(release.collections).toBe(2);
  });

  it('stops after one collection when that one already shrank the young generation', () => {
    const probe = fakeProbe();
    const release = new IdleMemoryRelease(probe);
    probe.collect = function () {
      this.collected++;
      this.young = MiB;
    };
    expect(release.check()).toBe(true);
    expect(release.check()).toBe(false);
    expect(probe.collected).toBe(1);
  });

  it('never collects while the event loop is busy, and starts over after a busy check', () => {
    const probe = fakeProbe();
    const release = new IdleMemoryRelease(probe);
    probe.load = 0.4;
    expect(release.check()).toBe(false);
    expect(probe.collected).toBe(0);
    probe.load = 0;
    expect(release.check()).toBe(true);
    // busy between the two: the spell starts over, with two collections again
    probe.load = 0.02;
    expect(release.check()).toBe(false);
    probe.load = 0.001;
    expect(release.check()).toBe(true);
    expect(release.check()).toBe(true);
    expect(release.check()).toBe(false);
    expect(probe.collected).toBe(3);
    // a busy spell grows it again; the next idle spell gives it back again
    probe.load = 0.5;
    probe.young = 32 * MiB;
    expect(release.check()).toBe(false);
    probe.load = 0;
    expect(release.check()).toBe(true);
    expect(release.check()).toBe(true);
    expect(probe.young).toBe(MiB);
    expect(probe.collected).toBe(5);
  });

  it('leaves a small young generation alone', () => {
    const probe = fakeProbe();
    const release = new IdleMemoryRelease(probe, 8 * MiB);
    probe.young = 8 * MiB;
    expect(release.check()).toBe(false);
    expect(probe.collected).toBe(0);
    // the spell is not used up: once it has grown, the next idle check collects
    probe.young = 9 * MiB;
    expect(release.check()).toBe(true);
  });
});

describe('processMemoryProbe', () => {
  it("reads this process's new space and event-loop utilisation, and collects without a --expose-gc flag", () => {
    const hadGc = 'gc' in globalThis;
    const probe = processMemoryProbe();
    const young = getHeapSpaceStatistics().find(
      (space) => space.space_name === 'new_space',
    )?.physical_space_size;
    expect(young).toBeGreaterThan(0);
    expect(probe.youngBytes()).toBeGreaterThan(0);
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
    probe.collect();
    expect(newSpaceUsed()).toBeLessThan(before / 2);
    // and the main context's globals stay as they were
    expect('gc' in globalThis).toBe(hadGc);
  });
});

describe('releaseMemoryWhenIdle', () => {
  it('refuses a period too short to see an idle allocation rate', () => {
    expect(() => releaseMemoryWhenIdle({ idleMs: 1000 })).toThrow(
      /idleMs must be an integer of at least 5000/,
    );
    expect(() => releaseMemoryWhenIdle({ idleMs: 10_000.5 })).toThrow(/idleMs/);
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
