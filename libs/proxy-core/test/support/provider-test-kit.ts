import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { SwitchyardError } from '../../src/errors/switchyard-error';
import type { ProviderCallContext } from '../../src/providers/provider-adapter';
import type { ChatCompletionChunk, ChatCompletionRequest, ChatMessage } from '../../src/wire/openai-chat';

/** Reads a fixture file next to a test (`new URL('./__fixtures__/x.json', import.meta.url)`). */
export function fixtureText(url: URL): string {
  return readFileSync(url, 'utf8');
}

/** Reads a JSON fixture. */
export function fixtureJson(url: URL): unknown {
  return JSON.parse(fixtureText(url)) as unknown;
}

/** A call context for one adapter call. */
export function callContext(
  model: string,
  signal: AbortSignal = new AbortController().signal,
): ProviderCallContext {
  return {
    model,
    signal,
    requestId: 'req-test-1',
    headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  };
}

/** Drains a chunk stream. */
export async function collect(iterable: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

/** The `SwitchyardError` a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<SwitchyardError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SwitchyardError);
    return error as SwitchyardError;
  }
  throw new Error('expected a rejection');
}

/** The text a stream carried. */
export function streamedText(chunks: readonly ChatCompletionChunk[]): string {
  return chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
}

/** The OpenAI request the adapter tests share. */
export const basicRequest: ChatCompletionRequest = {
  model: 'ignored',
  messages: [{ role: 'user', content: 'Hello!' }],
};

/** A request that needs a tool call, answered with the tool result, plus an image: every translation path at once. */
export const toolRoundTripRequest: ChatCompletionRequest = {
  model: 'ignored',
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is the weather where this photo was taken?' },
        {
          type: 'image_url',
          image_url: {
            url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
          },
        },
      ],
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: 'call_1',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"location":"Boston, MA"}' },
        },
      ],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temperature_c":21}' },
  ],
  tools: [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Current weather',
        parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
      },
    },
  ],
  temperature: 0.3,
  max_tokens: 256,
  stop: ['END'],
};

/**
 * A weather question answered by tool calls of the given ids, then their results: a user turn,
 * the assistant's `get_weather` calls and one `tool` message per id, in order.
 */
export function weatherToolTurns(ids: readonly string[]): ChatMessage[] {
  return [
    { role: 'user', content: 'Weather?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: ids.map((id) => ({
        id,
        type: 'function' as const,
        function: { name: 'get_weather', arguments: '{}' },
      })),
    },
    ...ids.map((id) => ({ role: 'tool' as const, tool_call_id: id, content: 'sunny' })),
  ];
}

/** Decodes an embedding sent as base64 little-endian float32. */
export function decodeBase64Floats(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_v, i) => bytes.readFloatLE(i * 4));
}
