import { describe, expect, it } from 'vitest';
import { RouteTable } from './route-table';
import { targetKey } from './target-key';

describe('targetKey', () => {
  it('is provider/model, the same string each time for a route table target', () => {
    const table = new RouteTable(
      [{ name: 'chat', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      new Set(['openai']),
      false,
    );
    const target = table.resolve('chat')?.targets[0];
    expect(target).toBeDefined();
    if (target === undefined) return;
    expect(targetKey(target)).toBe('openai/gpt-4o-mini');
    expect(targetKey(target)).toBe(targetKey(target));
  });

  it('follows the fields of a target that is not frozen (a key is remembered only for frozen targets)', () => {
    const target = { provider: 'openai', model: 'gpt-4o-mini' };
    expect(targetKey(target)).toBe('openai/gpt-4o-mini');
    target.model = 'gpt-4o';
    expect(targetKey(target)).toBe('openai/gpt-4o');
  });
});
