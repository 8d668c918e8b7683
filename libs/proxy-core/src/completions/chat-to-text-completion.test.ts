import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../wire/openai-chat';
import type { TextCompletion } from '../wire/openai-completions';
import { chatStreamToTextCompletion } from './chat-to-text-completion';

async function* chunks(items: ChatCompletionChunk[]): AsyncGenerator<ChatCompletionChunk> {
  yield* items;
}

async function read(stream: AsyncIterable<TextCompletion>): Promise<TextCompletion[]> {
  const read: TextCompletion[] = [];
  for await (const item of stream) read.push(item);
  return read;
}

const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm' } as const;

describe('chatStreamToTextCompletion', () => {
  it('sends no empty choice for a chunk that leaves finish_reason out (it sent one without a finish_reason)', async () => {
    const sent = await read(
      chatStreamToTextCompletion(
        chunks([
          { ...base, choices: [{ index: 0, delta: { content: 'abc' }, finish_reason: null }] },
          { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'length' }] },
          {
            ...base,
            choices: [{ index: 0, delta: {} } as ChatCompletionChunk['choices'][number]],
            usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
          },
        ]),
      ),
    );
    expect(sent.map((item) => ({ choices: item.choices, usage: item.usage }))).toEqual([
      { choices: [{ text: 'abc', index: 0, logprobs: null, finish_reason: null }], usage: undefined },
      { choices: [{ text: '', index: 0, logprobs: null, finish_reason: 'length' }], usage: undefined },
      { choices: [], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } },
    ]);
  });

  it('gives a text chunk whose choice leaves finish_reason out a null one, as every completion chunk has', async () => {
    const sent = await read(
      chatStreamToTextCompletion(
        chunks([
          {
            ...base,
            choices: [{ index: 0, delta: { content: 'a' } } as ChatCompletionChunk['choices'][number]],
          },
        ]),
      ),
    );
    expect(sent[0]?.choices).toEqual([{ text: 'a', index: 0, logprobs: null, finish_reason: null }]);
    expect(JSON.stringify(sent[0]?.choices[0])).toContain('"finish_reason":null');
  });
});
