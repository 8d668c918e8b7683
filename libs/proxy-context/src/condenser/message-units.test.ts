import type { ChatMessage } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { toUnits, toolPairsIntact } from './message-units';

describe('message units', () => {
  it('keep a legacy function_call and the function result answering it in one unit, as a tool call and its results', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'logs?' },
      { role: 'assistant', content: null, function_call: { name: 'get_logs', arguments: '{}' } },
      { role: 'function', name: 'get_logs', content: 'timeout' },
      { role: 'assistant', content: null, function_call: { name: 'get_metrics', arguments: '{}' } },
      // not the answer to the call before it: a unit of its own
      { role: 'function', name: 'get_logs', content: 'stale' },
      { role: 'assistant', content: 'done' },
    ];
    const units = toUnits(messages, [1, 2, 3, 4, 5, 6]);
    expect(units.map((unit) => [unit.start, unit.messages.length, unit.tokens])).toEqual([
      [0, 1, 1],
      [1, 2, 5],
      [3, 1, 4],
      [4, 1, 5],
      [5, 1, 6],
    ]);
    expect(toolPairsIntact(messages.slice(0, 3))).toBe(true);
    expect(toolPairsIntact([messages[0]!, messages[2]!])).toBe(false);
    expect(toolPairsIntact(messages)).toBe(false);
  });
});
