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

/**
 * The removal as it was specified: take the `pick`-th of the remaining removable units each time;
 * with `opensWithUser` (drop-oldest), once any went, also the assistant units left before the
 * first kept user unit, when one is kept (drop-oldest protects the newest user unit when the
 * newest unit is not one, so one is).
 */
function reference(
  all: readonly MessageUnit[],
  fixed: number,
  budget: number,
  protect: (index: number) => boolean,
  pick: (count: number) => number,
  opensWithUser = false,
): Selection {
  const kept = [...all];
  const removable = all.filter((_, index) => !protect(index));
  const removed: MessageUnit[] = [];
  let tokens = all.reduce((sum, unit) => sum + unit.tokens, fixed);
  const remove = (unit: MessageUnit): void => {
    removable.splice(removable.indexOf(unit), 1);
    kept.splice(kept.indexOf(unit), 1);
    removed.push(unit);
    tokens -= unit.tokens;
  };
  while (tokens > budget && removable.length > 0) remove(removable[pick(removable.length)]!);
  const role = (unit: MessageUnit | undefined) => unit?.messages[0]?.role;
  if (opensWithUser && removed.length > 0 && kept.some((unit) => !unit.system && role(unit) === 'user')) {
    while (role(kept.find((unit) => !unit.system)) === 'assistant')
      remove(kept.find((unit) => !unit.system)!);
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
        // the newest user unit stays when the newest unit is the assistant's (odd indexes are users)
        const pinnedUser = last >= 2 && last % 2 === 0 ? last - 1 : -1;
        expect(dropOldest(all, 10, budget)).toEqual(
          reference(
            all,
            10,
            budget,
            (index) => index === 0 || index === last || index === pinnedUser,
            () => 0,
            true,
          ),
        );
        // as summarize asks, with a user message of its own in front of what is kept
        expect(dropOldest(all, 10, budget, false)).toEqual(
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

  // Gemini refuses a history whose first turn is a function call ("function call turn comes
  // immediately after a user turn"), Bedrock Converse one that starts with an assistant message
  it('drop-oldest never leaves the kept conversation opening with the assistant: it drops the answers of a removed user turn too', () => {
    const message = (role: 'system' | 'user' | 'assistant', content: string): ChatMessage => ({
      role,
      content,
    });
    const call: ChatMessage = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
    };
    const all: MessageUnit[] = [
      { start: 0, messages: [message('system', 'policy')], tokens: 5, system: true },
      { start: 1, messages: [message('user', 'a long question')], tokens: 50, system: false },
      {
        start: 2,
        messages: [call, { role: 'tool', tool_call_id: 'c1', content: 'result' }],
        tokens: 10,
        system: false,
      },
      { start: 4, messages: [message('assistant', 'answer')], tokens: 10, system: false },
      { start: 5, messages: [message('user', 'next question')], tokens: 10, system: false },
      { start: 6, messages: [message('assistant', 'next answer')], tokens: 10, system: false },
      { start: 7, messages: [message('user', 'newest')], tokens: 10, system: false },
    ];
    // removing the first user turn alone fits (105 - 50 = 55 <= 60)
    const selection = dropOldest(all, 0, 60);
    const roles = selection.kept.flatMap((unit) => unit.messages.map((kept) => kept.role));
    expect(roles).toEqual(['system', 'user', 'assistant', 'user']);
    expect(selection.removed.map((unit) => unit.start)).toEqual([1, 2, 4]);
    expect(selection.tokens).toBe(35);
    // with nothing to remove, nothing changes
    expect(dropOldest(all, 0, 105).removed).toEqual([]);
  });

  // an agent loop: one user turn (the task), then tool calls and their results up to the newest
  it('drop-oldest keeps a user turn to open with when the newest unit is not one: the task of an agent loop stays', () => {
    const step = (id: string, start: number): MessageUnit => ({
      start,
      messages: [
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id, type: 'function', function: { name: 'run', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: id, content: `output of ${id}` },
      ],
      tokens: 30,
      system: false,
    });
    const all: MessageUnit[] = [
      { start: 0, messages: [{ role: 'system', content: 'policy' }], tokens: 5, system: true },
      { start: 1, messages: [{ role: 'user', content: 'fix the build' }], tokens: 20, system: false },
      step('c1', 2),
      step('c2', 4),
      step('c3', 6),
    ];
    // 135 tokens for a budget of 80: the two oldest steps go, the task stays
    const selection = dropOldest(all, 0, 80);
    expect(selection.kept.map((unit) => unit.start)).toEqual([0, 1, 6]);
    expect(selection.removed.map((unit) => unit.start)).toEqual([2, 4]);
    expect(selection.tokens).toBe(55);
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
