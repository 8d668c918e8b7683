import { describe, expect, it } from 'vitest';
import { MemoryBudget } from '../memory/memory-budget';
import { MemoryTier } from './memory-tier';

function tier(maxEntryBytes: number): MemoryTier {
  const budget = new MemoryBudget({ maxBytes: 1024 * 1024 });
  return new MemoryTier(budget.account('tier', 64 * 1024), maxEntryBytes, () => 0);
}

describe('memory tier', () => {
  it('drops the entry a body too large to store was to replace (it kept serving the old one)', () => {
    const memory = tier(2000);
    expect(memory.set('k', 'old', 1000)).toBe(true);
    expect(memory.set('k', 'x'.repeat(5000), 1000)).toBe(false);
    expect(memory.get('k')).toBeUndefined();
    expect(memory.stats()).toMatchObject({ entries: 0, usedBytes: 0, rejections: 1 });
  });
});
