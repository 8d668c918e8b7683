import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../wire/openai-chat';
import { toAnthropicRequest } from './to-anthropic-request';

const settings = { model: 'claude-sonnet-4-5', stream: false, defaultMaxTokens: 1024 };
const turnsOf = (messages: ChatMessage[]) => toAnthropicRequest({ model: 'x', messages }, settings).messages;

describe('toAnthropicRequest: empty assistant turns', () => {
  it.each([
    ['an empty string', ''],
    ['null', null],
    ['whitespace only', ' \n '],
    ['no text parts', []],
  ] as const)('drops a non-final assistant turn whose content is %s and joins the user turns around it', (_, content) => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: content as string | null },
      { role: 'user', content: 'Are you there?' },
    ];
    expect(turnsOf(messages)).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Hello' },
          { type: 'text', text: 'Are you there?' },
        ],
      },
    ]);
  });

  it('drops a final empty assistant turn rather than send an empty prefill', () => {
    const turns = turnsOf([
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi!' },
      { role: 'user', content: 'Tell me more' },
      { role: 'assistant', content: '' },
    ]);
    expect(turns.map((turn) => turn.role)).toEqual(['user', 'assistant', 'user']);
    expect(turns.every((turn) => Array.isArray(turn.content) && turn.content.length > 0)).toBe(true);
  });

  it('keeps an assistant turn with tool calls and no text, without an empty text block', () => {
    const turns = turnsOf([
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
    ]);
    expect(turns[1]).toEqual({ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }] });
  });

  it('keeps a final assistant turn with text as a prefill', () => {
    const turns = turnsOf([
      { role: 'user', content: 'Answer in JSON' },
      { role: 'assistant', content: '{' },
    ]);
    expect(turns.at(-1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: '{' }] });
  });
});
