import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../src/gateway/create-gateway';
import { echoPromptStream } from '../src/completions/chat-to-text-completion';
import { MockAdapter } from '../src/providers/mock/mock-adapter';
import type { ProviderCallContext } from '../src/providers/provider-adapter';
import { EmbeddingRequestSchema } from '../src/wire/chat-request-schema';
import type { ChatCompletionChunk } from '../src/wire/openai-chat';

const context = { model: 'mock-model', signal: new AbortController().signal } as ProviderCallContext;
const adapter = new MockAdapter({ name: 'mock', type: 'mock' });
const hello = { model: 'mock-model', messages: [{ role: 'user' as const, content: 'Hello there' }] };

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

describe('mock provider: embeddings dimensions', () => {
  it('makes a long vector without overflowing the stack (Math.hypot(...values) threw a RangeError)', async () => {
    const answer = await adapter.embed({ model: 'm', input: 'x', dimensions: 130_000 }, context);
    const vector = answer.data[0]?.embedding as number[];
    expect(vector).toHaveLength(130_000);
    expect(Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0))).toBeCloseTo(1, 6);
  });

  it('the embeddings schema refuses dimensions past 8192 and takes the sizes models give', () => {
    const request = (dimensions: number): unknown => ({ model: 'm', input: 'x', dimensions });
    expect(Value.Check(EmbeddingRequestSchema, request(130_000))).toBe(false);
    expect(Value.Check(EmbeddingRequestSchema, request(8193))).toBe(false);
    expect([...Value.Errors(EmbeddingRequestSchema, request(130_000))][0]?.path).toBe('/dimensions');
    for (const dimensions of [1, 256, 3072, 4096, 8192])
      expect(Value.Check(EmbeddingRequestSchema, request(dimensions))).toBe(true);
  });
});

describe('mock provider: n choices', () => {
  it('answers every choice n asks for, usage counting them all', async () => {
    const one = await adapter.chat(hello, context);
    const answer = await adapter.chat({ ...hello, n: 3 }, context);
    expect(answer.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    for (const choice of answer.choices) {
      expect(choice.message.content).toBe(one.choices[0]?.message.content);
      expect(choice.finish_reason).toBe('stop');
    }
    expect(answer.usage?.completion_tokens).toBe(3 * (one.usage?.completion_tokens ?? 0));
  });

  it('streams every choice its text and finish reason', async () => {
    const text = new Map<number, string>();
    const finished = new Map<number, string | null>();
    for await (const chunk of await adapter.stream({ ...hello, n: 2, stream: true }, context)) {
      for (const choice of chunk.choices) {
        text.set(choice.index, (text.get(choice.index) ?? '') + (choice.delta.content ?? ''));
        if (choice.finish_reason !== null) finished.set(choice.index, choice.finish_reason);
      }
    }
    expect([...text.keys()].sort()).toEqual([0, 1]);
    expect(text.get(1)).toBe(text.get(0));
    expect(text.get(0)).toContain('Hello there');
    expect(Object.fromEntries(finished)).toEqual({ 0: 'stop', 1: 'stop' });
  });

  it('calls the required tool in every choice', async () => {
    const answer = await adapter.chat(
      {
        ...hello,
        n: 2,
        tools: [{ type: 'function', function: { name: 'save' } }],
        tool_choice: 'required',
      },
      context,
    );
    expect(answer.choices.map((choice) => choice.message.tool_calls?.[0]?.type)).toEqual([
      'function',
      'function',
    ]);
  });
});

describe('/v1/completions echo with n through the mock', () => {
  it('streams each choice the prompt, its text and a finish reason', async () => {
    gateway = createGateway({ providers: [{ name: 'mock', type: 'mock' }] });
    const text = new Map<number, string>();
    const finished = new Map<number, string | null>();
    const stream = await gateway.streamComplete({ model: 'mock/m', prompt: 'Say hi', echo: true, n: 2 });
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        text.set(choice.index, (text.get(choice.index) ?? '') + choice.text);
        if (choice.finish_reason !== null) finished.set(choice.index, choice.finish_reason);
      }
    }
    expect(Object.fromEntries(finished)).toEqual({ 0: 'stop', 1: 'stop' });
    for (const index of [0, 1]) {
      expect(text.get(index)).toMatch(/^Say hi/);
      expect(text.get(index)?.length).toBeGreaterThan('Say hi'.length);
    }
  });

  it('echoes only the choices the upstream answers', async () => {
    async function* oneChoice(): AsyncGenerator<ChatCompletionChunk> {
      const base = { id: 'c', object: 'chat.completion.chunk' as const, created: 0, model: 'm' };
      yield {
        ...base,
        choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
      };
      yield { ...base, choices: [{ index: 0, delta: { content: ' hi' }, finish_reason: 'stop' }] };
    }
    const indexes: number[] = [];
    for await (const chunk of echoPromptStream(oneChoice(), 'Say', 2))
      for (const choice of chunk.choices) if (choice.delta.content === 'Say') indexes.push(choice.index);
    expect(indexes).toEqual([0]);
  });
});
