import { describe, expect, it } from 'vitest';
import { formatCost } from './cli-output';

describe('formatCost', () => {
  it('puts the unpriced requests beside the cost that leaves them out (they were summed as $0 unseen)', () => {
    expect(formatCost(1.234, 4)).toBe('$1.23 + 4 unpriced');
    expect(formatCost(0, 1_200)).toBe('$0 + 1,200 unpriced');
    expect(formatCost(0.0123, 0)).toBe('$0.0123');
  });

  it('reads an absent count (a gateway older than it) as unknown: the cost alone, never "+ 0"', () => {
    expect(formatCost(1.234, undefined)).toBe('$1.23');
    expect(formatCost(undefined, undefined)).toBe('-');
  });
});
