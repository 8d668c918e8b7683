import type { ChatMessage } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import * as o200kEncoding from 'gpt-tokenizer/encoding/o200k_base';
import { dropOldest, middleOut, truncateLong, type Selection } from './condense-strategies';
import { contentText, countMessage, exactCounter } from './token-counter';
import type { MessageUnit } from './message-units';

function units(count: number): MessageUnit[] {
  return Array.from({ length: count }, (_, index) => {
    const message: ChatMessage =
      index === 0
        ? { role: 'system', content: 'policy' }
        : { role: index % 2 === 1 ? 'user' : 'assistant', content: `turn ${index}` };
    return { start: index, messages: [message], tokens: 1 + (index % 5), system: index === 0 };
  });
}

/** The removal as it was specified: take the `pick`-th of the remaining removable units each time. */
function reference(
  all: readonly MessageUnit[],
  fixed: number,
  budget: number,
  protect: (index: number) => boolean,
  pick: (count: number) => number,
): Selection {
  const kept = [...all];
  const removable = all.filter((_, index) => !protect(index));
  const removed: MessageUnit[] = [];
  let tokens = all.reduce((sum, unit) => sum + unit.tokens, fixed);
  while (tokens > budget && removable.length > 0) {
    const [unit] = removable.splice(pick(removable.length), 1);
    kept.splice(kept.indexOf(unit!), 1);
    removed.push(unit!);
    tokens -= unit!.tokens;
  }
  return { kept, removed: removed.sort((a, b) => a.start - b.start), tokens };
}

describe('condense strategies', () => {
  it('drop-oldest and middle-out remove the same units as taking the oldest / the middle one at a time', () => {
    for (let count = 1; count <= 40; count += 1) {
      const all = units(count);
      const full = all.reduce((sum, unit) => sum + unit.tokens, 10);
      for (let budget = 10; budget <= full; budget += 3) {
        const last = count - 1;
        expect(dropOldest(all, 10, budget)).toEqual(
          reference(
            all,
            10,
            budget,
            (index) => index === 0 || index === last,
            () => 0,
          ),
        );
        expect(middleOut(all, 10, budget)).toEqual(
          reference(
            all,
            10,
            budget,
            (index) => index === 0 || index === 1 || index === last,
            (n) => Math.floor(n / 2),
          ),
        );
      }
    }
  });

  // removal was a splice and an indexOf per unit: 80k messages took 6 s, 300k take minutes
  it('drop 300k units in one pass (linear in the conversation)', () => {
    const all = units(300_000);
    const budget = 1_000;
    for (const selection of [dropOldest(all, 0, budget), middleOut(all, 0, budget)]) {
      expect(selection.tokens).toBeLessThanOrEqual(budget);
      expect(selection.kept.length + selection.removed.length).toBe(all.length);
      expect(selection.kept[0]).toBe(all[0]);
      expect(selection.kept.at(-1)).toBe(all.at(-1));
    }
  });
});

describe('truncateLong past the tokenizing cap of a counter', () => {
  it('counts each text the same way it first did, so the request it leaves fits the budget', () => {
    const counter = exactCounter('o200k_base', o200kEncoding);
    // the counts spend the counter's MAX_TOKENIZED_CHARS: the first document is tokenized, the
    // second only in part (the rest bounded by its bytes)
    const messages: ChatMessage[] = [
      { role: 'user', content: 'hello '.repeat(150_000) },
      { role: 'assistant', content: 'world '.repeat(100_000) },
      { role: 'user', content: 'and now?' },
    ];
    const counts = messages.map((message) => countMessage(message, counter));
    const budget = 50_000;
    const result = truncateLong(messages, counts, 0, budget, counter, 100);
    const actual = result.messages.reduce(
      (sum, message) => sum + o200kEncoding.encode(contentText(message.content)).length,
      0,
    );
    expect(result.tokens).toBeLessThanOrEqual(budget);
    // the tokens it reports are never fewer than the request holds
    expect(actual).toBeLessThanOrEqual(result.tokens);
    expect(result.messages[2]).toEqual(messages[2]);
  });
});
