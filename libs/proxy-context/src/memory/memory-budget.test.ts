import { describe, expect, it } from 'vitest';
import { MemoryTier } from '../cache/memory-tier';
import { MemoryBudget } from './memory-budget';

describe('MemoryBudget', () => {
  it('refuses reservations past the budget and counts them', () => {
    const budget = new MemoryBudget({ maxBytes: 1000 });
    const a = budget.account('a', 800);
    const b = budget.account('b');
    expect(a.reserve(700)).toBe(true);
    expect(a.reserve(200)).toBe(false); // past the account's own ceiling
    expect(b.reserve(400)).toBe(false); // past the whole budget
    expect(b.reserve(300)).toBe(true);
    a.release(700);
    expect(budget.usedBytes).toBe(300);
    expect(budget.stats().accounts['a']).toMatchObject({ usedBytes: 0, rejections: 1 });
    expect(budget.stats().accounts['b']).toMatchObject({ usedBytes: 300, rejections: 1 });
  });

  it('rejects an unbounded or duplicate account at construction', () => {
    expect(() => new MemoryBudget({ maxBytes: Number.POSITIVE_INFINITY })).toThrow(
      expect.objectContaining({ code: 'invalid_options' }),
    );
    const budget = new MemoryBudget({ maxBytes: 10 });
    budget.account('x');
    expect(() => budget.account('x')).toThrow(expect.objectContaining({ code: 'duplicate_registration' }));
  });

  it('closing an account gives its bytes back and frees its name; the closed account refuses reservations and ignores releases', () => {
    const budget = new MemoryBudget({ maxBytes: 1000 });
    const other = budget.account('other');
    expect(other.reserve(100)).toBe(true);
    const cache = budget.account('cache', 800);
    expect(cache.reserve(600)).toBe(true);
    cache.countEviction();
    cache.close();
    expect(cache.closed).toBe(true);
    expect(cache.usedBytes).toBe(0);
    expect(budget.usedBytes).toBe(100);
    expect(Object.keys(budget.stats().accounts)).toEqual(['other']);
    // a holder still releasing what it held (a request in flight at close) gives nothing back twice
    cache.release(600);
    expect(budget.usedBytes).toBe(100);
    expect(cache.reserve(10)).toBe(false);
    expect(budget.usedBytes).toBe(100);
    cache.close();
    // the name is free again, for a fresh account with counters of its own
    const reopened = budget.account('cache', 800);
    expect(reopened.reserve(800)).toBe(true);
    cache.release(800);
    expect(budget.stats()).toMatchObject({
      usedBytes: 900,
      accounts: { cache: { usedBytes: 800, evictions: 0, rejections: 0 } },
    });
  });

  it('a soak of a million distinct keys stays within the budget and counts evictions', () => {
    const budget = new MemoryBudget({ maxBytes: 256 * 1024 });
    const other = budget.account('queue');
    expect(other.reserve(64 * 1024)).toBe(true); // another structure holds part of the budget
    const tier = new MemoryTier(budget.account('cache', 1024 * 1024), 4096, () => 0);
    let peak = 0;
    for (let i = 0; i < 1_000_000; i += 1) {
      tier.set(`key-${i}`, `value-${i}`, 1);
      if ((i & 0x3ff) === 0) peak = Math.max(peak, budget.usedBytes);
    }
    const stats = tier.stats();
    expect(peak).toBeLessThanOrEqual(budget.maxBytes);
    expect(budget.usedBytes).toBeLessThanOrEqual(budget.maxBytes);
    expect(stats.usedBytes).toBeLessThanOrEqual(192 * 1024);
    expect(stats.entries).toBeGreaterThan(100);
    expect(stats.entries + stats.evictions).toBe(1_000_000);
    expect(budget.stats().accounts['cache']?.evictions).toBe(stats.evictions);
  });

  it('refuses an entry larger than an entry may be', () => {
    const budget = new MemoryBudget({ maxBytes: 100_000 });
    const tier = new MemoryTier(budget.account('cache'), 1000, () => 0);
    expect(tier.set('k', 'x'.repeat(2000), 10)).toBe(false);
    expect(tier.stats()).toMatchObject({ entries: 0, rejections: 1, usedBytes: 0 });
  });
});
