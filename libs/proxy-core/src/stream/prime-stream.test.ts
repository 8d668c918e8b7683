import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatDelta } from '../wire/openai-chat';
import { isContentChunk, primeStream } from './prime-stream';

function chunk(delta: ChatDelta): ChatCompletionChunk {
  return {
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'v',
    choices: [{ index: 0, delta, finish_reason: null }],
  };
}

async function* stream(...chunks: ChatCompletionChunk[]): AsyncGenerator<ChatCompletionChunk> {
  yield* chunks;
}

describe('primeStream', () => {
  it('ends priming at the first reasoning delta of an OpenAI-compatible host, so reasoning is delivered as it comes', async () => {
    for (const reasoning of [{ reasoning_content: 'Let me see.' }, { reasoning: 'Let me see.' }]) {
      const primed = await primeStream(
        stream(
          chunk({ role: 'assistant', content: '' }),
          chunk(reasoning),
          chunk(reasoning),
          chunk({ content: 'Hi' }),
        ),
        'p',
      );
      expect(primed.head).toEqual([chunk({ role: 'assistant', content: '' }), chunk(reasoning)]);
      expect(primed.ended).toBe(false);
      await primed.reads.return?.();
    }
  });

  it('goes on priming past empty reasoning', async () => {
    const primed = await primeStream(
      stream(chunk({ reasoning_content: '' }), chunk({ reasoning: null }), chunk({ content: 'Hi' })),
      'p',
    );
    expect(primed.head).toHaveLength(3);
  });

  it('times the first token by the answer, not by reasoning', () => {
    expect(isContentChunk(chunk({ reasoning_content: 'Let me see.' }))).toBe(false);
    expect(isContentChunk(chunk({ content: 'Hi' }))).toBe(true);
  });
});
