import { describe, expect, it } from 'vitest';
import { toCohereRequest } from '../src/providers/cohere/to-cohere-request';
import { toGeminiRequest } from '../src/providers/gemini/to-gemini-request';
import { toOllamaRequest } from '../src/providers/ollama/to-ollama-request';
import type { ChatCompletionRequest } from '../src/wire/openai-chat';

// A tool message without `tool_call_id` (the request schema leaves it optional; OpenAI refuses
// it) is a 400 naming the field on every provider that pairs a result with its call, as on
// Anthropic and Bedrock: not a Cohere 400 of its own, nor "unknown tool call "undefined"".

const request = {
  model: 'x',
  messages: [
    { role: 'user', content: 'Save it' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'save', arguments: '{}' } }],
    },
    { role: 'tool', content: 'saved' },
  ],
} as unknown as ChatCompletionRequest;

const missingId: unknown = expect.objectContaining({
  code: 'invalid_request',
  param: 'messages.2.tool_call_id',
  message: expect.stringContaining('"tool_call_id"') as string,
});

describe('a tool message without tool_call_id', () => {
  it('is refused naming messages.<i>.tool_call_id by Cohere, not forwarded', () => {
    expect(() => toCohereRequest(request, 'command-r', false)).toThrow(missingId);
  });

  it('is refused naming messages.<i>.tool_call_id by Gemini, not as an unknown call "undefined"', () => {
    expect(() => toGeminiRequest(request, 'gemini-2.5-flash')).toThrow(missingId);
  });

  it('is refused naming messages.<i>.tool_call_id by Ollama, not sent without its tool', () => {
    expect(() => toOllamaRequest(request, 'llama3.2', false, 'local')).toThrow(missingId);
  });

  it('with its id, is still sent by each', () => {
    const messages = request.messages.map((message) =>
      message.role === 'tool' ? { ...message, tool_call_id: 'call_1' } : message,
    );
    const answered = { ...request, messages };
    expect((toCohereRequest(answered, 'command-r', false)['messages'] as unknown[])[2]).toEqual({
      role: 'tool',
      tool_call_id: 'call_1',
      content: 'saved',
    });
    expect(toGeminiRequest(answered, 'gemini-2.5-flash').contents[2]).toEqual({
      role: 'user',
      parts: [{ functionResponse: { name: 'save', response: { content: 'saved' } } }],
    });
    expect((toOllamaRequest(answered, 'llama3.2', false, 'local')['messages'] as unknown[])[2]).toEqual({
      role: 'tool',
      content: 'saved',
      tool_name: 'save',
    });
  });
});
