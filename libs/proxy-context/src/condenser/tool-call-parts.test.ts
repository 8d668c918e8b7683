import type { ChatCompletionRequest, ChatMessage } from '@switchyard/proxy-core';
import * as o200kEncoding from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { transcriptOf } from './summarize-units';
import { countMessage, exactCounter, upperBoundTokens } from './token-counter';
import { callsOf } from './tool-call-parts';

// An assistant message holding a custom tool's call (GPT-5: free-form `input`, no `function`)
// crashed the condenser reading `call.function.name`: it is counted and summarised as a
// function call is, its input in place of the arguments.

const counter = exactCounter('o200k_base', o200kEncoding);
const input = 'print(sum(range(10)))';
const custom: ChatMessage = {
  role: 'assistant',
  content: null,
  tool_calls: [{ id: 'call_1', type: 'custom', custom: { name: 'code_exec', input } }],
};
const asFunction: ChatMessage = {
  role: 'assistant',
  content: null,
  tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'code_exec', arguments: input } }],
};

describe('custom tool calls in the condenser', () => {
  it('counts a custom call as a function call of the same name and input', () => {
    expect(countMessage(custom, counter)).toBe(countMessage(asFunction, counter));
    const request = (message: ChatMessage): ChatCompletionRequest => ({
      model: 'gpt-5',
      messages: [message],
    });
    expect(upperBoundTokens(request(custom), 'o200k_base')).toBe(
      upperBoundTokens(request(asFunction), 'o200k_base'),
    );
  });

  it('summarises a custom call with its name and input', () => {
    expect(transcriptOf([custom], counter, 1000)).toBe(`assistant: [called code_exec(${input})]`);
  });

  it('counts a legacy function message by its content and name', () => {
    const message: ChatMessage = { role: 'function', name: 'get_weather', content: 'sunny' };
    expect(countMessage(message, counter)).toBeGreaterThan(
      countMessage({ role: 'function', name: '', content: '' }, counter),
    );
  });

  it('reads the calls of an assistant message, tool calls then a legacy function_call, and none of other roles', () => {
    const both: ChatMessage = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'custom', custom: { name: 'code_exec', input } }],
      function_call: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
    };
    expect(callsOf(both)).toEqual([
      { name: 'code_exec', input },
      { name: 'get_weather', input: '{"city":"Oslo"}' },
    ]);
    expect(callsOf({ role: 'user', content: 'hi' })).toEqual([]);
    // counting and summarising read the same calls
    expect(transcriptOf([both], counter, 1000)).toBe(
      `assistant: [called code_exec(${input}), get_weather({"city":"Oslo"})]`,
    );
  });
});
