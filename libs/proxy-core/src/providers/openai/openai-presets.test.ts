import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/create-gateway';
import { OPENAI_PRESETS } from './openai-presets';

const KEY = 'gsk_test_canary_0123456789';
let upstream: MockUpstream;
let gateway: Gateway;

beforeAll(async () => {
  upstream = await createMockUpstream();
  gateway = createGateway({
    providers: [
      { name: 'groq', type: 'groq', baseUrl: `${upstream.url}/openai/v1`, apiKey: KEY },
      { name: 'mistral', type: 'mistral', baseUrl: `${upstream.url}/v1`, apiKey: KEY },
      { name: 'voyage', type: 'voyage', baseUrl: `${upstream.url}/v1`, apiKey: KEY },
      {
        name: 'perplexity-keep',
        type: 'perplexity',
        baseUrl: upstream.url,
        apiKey: KEY,
        unsupportedParams: [],
      },
      { name: 'perplexity', type: 'perplexity', baseUrl: upstream.url, apiKey: KEY },
      { name: 'deepseek', type: 'deepseek', baseUrl: `${upstream.url}/v1`, apiKey: KEY },
    ],
  });
});
afterEach(() => upstream.reset());
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

describe('OpenAI-compatible presets', () => {
  it('registers every preset as a provider type with an https base URL (loopback for local servers)', () => {
    for (const preset of OPENAI_PRESETS) {
      expect(preset.baseUrl).toMatch(/^https:\/\/|^http:\/\/127\.0\.0\.1:/);
    }
    expect(new Set(OPENAI_PRESETS.map((p) => p.type)).size).toBe(OPENAI_PRESETS.length);
    expect(() =>
      createGateway({ providers: OPENAI_PRESETS.map((p) => ({ name: p.type, type: p.type })) }),
    ).not.toThrow();
  });

  it('groq: sends the bearer key and removes the parameters Groq rejects', async () => {
    const response = await gateway.chat({
      model: 'groq/llama-3.3-70b-versatile',
      messages: [{ role: 'user', content: 'Hi' }],
      logit_bias: { '1': 2 },
      logprobs: true,
      temperature: 0.2,
    });
    expect(response.choices[0]?.message.content).toContain('Hello there');
    const sent = upstream.requests[0]!;
    expect(sent.path).toBe('/openai/v1/chat/completions');
    expect(sent.headers['authorization']).toBe(`Bearer ${KEY}`);
    const body = sent.body as Record<string, unknown>;
    expect(body['model']).toBe('llama-3.3-70b-versatile');
    expect(body).not.toHaveProperty('logit_bias');
    expect(body).not.toHaveProperty('logprobs');
    expect(body['temperature']).toBe(0.2);
  });

  it('deepseek: reads its cache hits (prompt_cache_hit_tokens) as the cached prompt tokens they are billed as', async () => {
    upstream.fault({
      kind: 'status',
      status: 200,
      times: 1,
      body: {
        id: 'c1',
        object: 'chat.completion',
        created: 1,
        model: 'deepseek-chat',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
        usage: {
          prompt_tokens: 1200,
          completion_tokens: 10,
          total_tokens: 1210,
          prompt_cache_hit_tokens: 1024,
          prompt_cache_miss_tokens: 176,
        },
      },
    });
    const response = await gateway.chat({
      model: 'deepseek/deepseek-chat',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(response.usage?.prompt_tokens_details).toEqual({ cached_tokens: 1024 });
  });

  it.each(['deepseek', 'perplexity'])(
    '%s: refuses n > 1 with unsupported_feature (the host takes no n) instead of stripping it, and strips n = 1',
    async (name) => {
      const request = { model: `${name}/m`, messages: [{ role: 'user' as const, content: 'Hi' }] };
      await expect(gateway.chat({ ...request, n: 2 })).rejects.toMatchObject({
        code: 'unsupported_feature',
        param: 'n',
      });
      await expect(gateway.stream({ ...request, n: 2, stream: true })).rejects.toMatchObject({
        code: 'unsupported_feature',
        param: 'n',
      });
      await expect(gateway.complete({ model: `${name}/m`, prompt: 'Hi', n: 2 })).rejects.toMatchObject({
        code: 'unsupported_feature',
        param: 'n',
      });
      expect(upstream.requests).toHaveLength(0);
      await gateway.chat({ ...request, n: 1 });
      expect(upstream.requests[0]?.body).not.toHaveProperty('n');
    },
  );

  it('mistral: renames seed to random_seed and dimensions to output_dimension', async () => {
    await gateway.chat({
      model: 'mistral/mistral-small-latest',
      messages: [{ role: 'user', content: 'Hi' }],
      seed: 7,
      user: 'u1',
    });
    const chat = upstream.requests[0]!.body as Record<string, unknown>;
    expect(chat['random_seed']).toBe(7);
    expect(chat).not.toHaveProperty('seed');
    expect(chat).not.toHaveProperty('user');
    await gateway.embed({ model: 'mistral/mistral-embed', input: ['a'], dimensions: 4 });
    const embed = upstream.requests[1]!.body as Record<string, unknown>;
    expect(embed['output_dimension']).toBe(4);
    expect(embed).not.toHaveProperty('dimensions');
  });

  it('mistral: sends tool-call ids of nine letters and digits (ids from other providers are refused there), and type openai can opt in', async () => {
    const toolTurn = (id: string) => ({
      model: 'mistral/mistral-small-latest',
      messages: [
        { role: 'user' as const, content: 'Weather in Paris?' },
        {
          role: 'assistant' as const,
          content: null,
          tool_calls: [{ id, type: 'function' as const, function: { name: 'get_weather', arguments: '{}' } }],
        },
        { role: 'tool' as const, tool_call_id: id, content: '18C' },
      ],
    });
    const idsSent = (index: number): string[] => {
      const messages = (
        upstream.requests[index]!.body as {
          messages: Array<{ tool_calls?: Array<{ id: string }>; tool_call_id?: string }>;
        }
      ).messages;
      return [messages[1]!.tool_calls![0]!.id, messages[2]!.tool_call_id!];
    };
    await gateway.chat(toolTurn('call_PTLP8xhu3uwZk4l3nlnrrJha'));
    const [call, result] = idsSent(0);
    expect(call).toMatch(/^[A-Za-z0-9]{9}$/);
    expect(result).toBe(call);
    await gateway.chat(toolTurn('D681PevKs'));
    expect(idsSent(1)).toEqual(['D681PevKs', 'D681PevKs']);
    const own = createGateway({
      providers: [
        { name: 'vllm', type: 'openai', baseUrl: `${upstream.url}/v1`, toolCallIdFormat: 'mistral' },
      ],
    });
    try {
      await own.chat({ ...toolTurn('call_PTLP8xhu3uwZk4l3nlnrrJha'), model: 'vllm/mistral-small' });
      expect(idsSent(2)).toEqual([call, call]);
    } finally {
      await own.close();
    }
    expect(() =>
      createGateway({ providers: [{ name: 'x', type: 'openai', toolCallIdFormat: 'short' }] }),
    ).toThrow(/toolCallIdFormat/);
  });

  it('voyage: embeds in batches and reports usage', async () => {
    const response = await gateway.embed({
      model: 'voyage/voyage-3.5',
      input: ['one', 'two', 'three'],
      encoding_format: 'base64',
    });
    expect(response.data).toHaveLength(3);
    expect(typeof response.data[0]?.embedding).toBe('string');
    expect(response.usage.prompt_tokens).toBeGreaterThan(0);
    expect(upstream.requests[0]!.path).toBe('/v1/embeddings');
  });

  it('user options override the preset quirks', async () => {
    await gateway.chat({
      model: 'perplexity-keep/sonar',
      messages: [{ role: 'user', content: 'Hi' }],
      seed: 3,
    });
    const sent = upstream.requests[0]!;
    expect(sent.path).toBe('/chat/completions');
    expect((sent.body as Record<string, unknown>)['seed']).toBe(3);
  });
});
