import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../create-app';

let upstream: MockUpstream;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  upstream = await createMockUpstream();
  app = createApp({
    gateway: {
      providers: [
        { name: 'openai', type: 'openai', apiKey: 'sk-test', baseUrl: `${upstream.url}/v1` },
        { name: 'gemini', type: 'gemini', apiKey: 'AIza-test-key-000000', baseUrl: `${upstream.url}/v1beta` },
      ],
    },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
  await upstream.close();
});

const complete = (payload: unknown) =>
  app.inject({ method: 'POST', url: '/v1/completions', payload: payload as string, headers: { 'content-type': 'application/json' } });

describe('POST /v1/completions', () => {
  it('answers a legacy completion through chat, with the legacy max_tokens default', async () => {
    const response = await complete({ model: 'gemini/gemini-2.5-flash', prompt: 'Say this is a test', echo: true });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ object: string; choices: Array<{ text: string; finish_reason: string; logprobs: null }>; usage: { total_tokens: number } }>();
    expect(body.object).toBe('text_completion');
    expect(body.choices[0]?.text).toMatch(/^Say this is a test\n\nHello there/);
    expect(body.choices[0]?.finish_reason).toBe('stop');
    expect(body.usage.total_tokens).toBeGreaterThan(0);
    const sent = upstream.requests.at(-1)!.body as { contents: unknown; generationConfig: { maxOutputTokens: number } };
    expect(sent.contents).toEqual([{ role: 'user', parts: [{ text: 'Say this is a test' }] }]);
    expect(sent.generationConfig.maxOutputTokens).toBe(16);
  });

  it('rejects what chat cannot express: several prompts, token prompts, suffix, logprobs', async () => {
    for (const payload of [
      { model: 'openai/gpt-4o-mini', prompt: ['a', 'b'] },
      { model: 'openai/gpt-4o-mini', prompt: [1, 2, 3] },
      { model: 'openai/gpt-4o-mini', prompt: 'a', suffix: 'z' },
      { model: 'openai/gpt-4o-mini', prompt: 'a', logprobs: 2 },
    ]) {
      const response = await complete(payload);
      expect(response.statusCode).toBe(400);
      expect(response.json<{ error: { code: string } }>().error.code).toBe('invalid_request');
    }
  });

  it('streams text_completion chunks over a real socket, then usage and [DONE]', async () => {
    const response = await fetch(`${base}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', prompt: 'Hello', stream: true, stream_options: { include_usage: true } }),
    });
    expect(response.status).toBe(200);
    const events = (await response.text()).split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { object: string; choices: Array<{ text: string; finish_reason: string | null }>; usage?: { total_tokens: number } });
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe('\n\nHello there, how may I assist you today?');
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
    expect(chunks.at(-1)?.usage?.total_tokens).toBe(29);
  });
});
