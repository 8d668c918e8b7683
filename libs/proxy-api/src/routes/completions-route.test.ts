import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
      models: [
        {
          name: 'instruct',
          targets: [{ provider: 'openai', model: 'gpt-3.5-turbo-instruct' }],
          fallbacks: ['flash'],
        },
        { name: 'flash', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        {
          name: 'chat-first',
          targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }],
          fallbacks: ['instruct-only'],
        },
        { name: 'instruct-only', targets: [{ provider: 'openai', model: 'gpt-3.5-turbo-instruct' }] },
      ],
      retry: { maxRetries: 0 },
    },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(() => upstream.reset());
afterAll(async () => {
  await app.close();
  await upstream.close();
});

const complete = (payload: unknown) =>
  app.inject({
    method: 'POST',
    url: '/v1/completions',
    payload: payload as string,
    headers: { 'content-type': 'application/json' },
  });

interface Completion {
  id: string;
  object: string;
  model: string;
  choices: Array<{
    text: string;
    index: number;
    finish_reason: string | null;
    logprobs: { tokens: string[]; text_offset: number[] } | null;
  }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

async function streamed(payload: unknown): Promise<{ status: number; events: string[] }> {
  const response = await fetch(`${base}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  return {
    status: response.status,
    events: (await response.text())
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice(6)),
  };
}

describe('POST /v1/completions through chat', () => {
  it('answers a legacy completion through chat, with the legacy max_tokens default and the prompt echoed', async () => {
    const response = await complete({
      model: 'gemini/gemini-2.5-flash',
      prompt: 'Say this is a test',
      echo: true,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<Completion>();
    expect(body.object).toBe('text_completion');
    expect(body.choices[0]?.text).toMatch(/^Say this is a test\n\nHello there/);
    expect(body.choices[0]?.finish_reason).toBe('stop');
    expect(body.usage?.total_tokens).toBeGreaterThan(0);
    const sent = upstream.requests.at(-1)!.body as {
      contents: unknown;
      generationConfig: { maxOutputTokens: number };
    };
    expect(sent.contents).toEqual([{ role: 'user', parts: [{ text: 'Say this is a test' }] }]);
    expect(sent.generationConfig.maxOutputTokens).toBe(16);
  });

  it('rejects several prompts and token prompts, and what only a completions endpoint does on a chat target', async () => {
    for (const payload of [
      { model: 'gemini/gemini-2.5-flash', prompt: ['a', 'b'] },
      { model: 'gemini/gemini-2.5-flash', prompt: [1, 2, 3] },
    ]) {
      const response = await complete(payload);
      expect(response.statusCode).toBe(400);
      expect(response.json<{ error: { code: string } }>().error.code).toBe('invalid_request');
    }
    for (const [param, value] of [
      ['suffix', 'z'],
      ['logprobs', 2],
      ['best_of', 3],
    ] as const) {
      const response = await complete({ model: 'gemini/gemini-2.5-flash', prompt: 'a', [param]: value });
      expect(response.statusCode).toBe(400);
      expect(response.json<{ error: { code: string; param: string } }>().error).toMatchObject({
        code: 'unsupported_feature',
        param,
      });
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('streams text_completion chunks from a chat model over a real socket, then usage and [DONE]', async () => {
    const { status, events } = await streamed({
      model: 'openai/gpt-4o-mini',
      prompt: 'Hello',
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(status).toBe(200);
    expect(upstream.requests.at(-1)?.path).toBe('/v1/chat/completions');
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Completion);
    expect(chunks.every((c) => c.object === 'text_completion' && c.id.startsWith('cmpl-'))).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(
      '\n\nHello there, how may I assist you today?',
    );
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
    expect(chunks.at(-1)?.usage?.total_tokens).toBe(29);
  });
});

describe('POST /v1/completions natively', () => {
  it('sends an instruct model to /v1/completions with suffix, logprobs, echo, n and best_of as given', async () => {
    const payload = {
      model: 'instruct',
      prompt: 'Say this is a test',
      max_tokens: 7,
      temperature: 0,
      suffix: '.',
      logprobs: 2,
      echo: true,
      n: 2,
      best_of: 3,
      stop: ['\n\n\n'],
    };
    const response = await complete(payload);
    expect(response.statusCode).toBe(200);
    const sent = upstream.requests.at(-1)!;
    expect(sent.path).toBe('/v1/completions');
    expect(sent.body).toEqual({ ...payload, model: 'gpt-3.5-turbo-instruct', stream: false });
    const body = response.json<Completion>();
    expect(body).toMatchObject({
      object: 'text_completion',
      model: 'gpt-3.5-turbo-instruct',
      usage: { prompt_tokens: 5, completion_tokens: 14, total_tokens: 19 },
    });
    expect(body.id).toMatch(/^cmpl-mock/);
    expect(body.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(body.choices[0]?.text).toBe('Say this is a test\n\nThis is indeed a test');
    expect(body.choices[0]?.finish_reason).toBe('length');
    expect(body.choices[0]?.logprobs?.tokens).toEqual([
      'Say this is a test',
      '\n\n',
      'This',
      ' is',
      ' indeed',
      ' a',
      ' test',
    ]);
    expect(body.choices[0]?.logprobs?.text_offset[1]).toBe('Say this is a test'.length);
  });

  it('streams native text_completion chunks with logprobs, then usage and [DONE]', async () => {
    const { status, events } = await streamed({
      model: 'instruct',
      prompt: 'Say this is a test',
      stream: true,
      logprobs: 1,
      stream_options: { include_usage: true },
    });
    expect(status).toBe(200);
    expect(upstream.requests.at(-1)?.path).toBe('/v1/completions');
    expect(upstream.requests.at(-1)?.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      logprobs: 1,
    });
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Completion);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe('\n\nThis is indeed a test');
    expect(chunks[0]?.choices[0]?.logprobs?.tokens).toEqual(['\n\n']);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('length');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 12 } });
  });

  it('leaves usage out of a native stream when the client did not ask for it', async () => {
    const { events } = await streamed({ model: 'instruct', prompt: 'Say this is a test', stream: true });
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Completion);
    expect(chunks.some((c) => c.usage !== undefined && c.usage !== null)).toBe(false);
    expect(upstream.requests.at(-1)?.body).toMatchObject({ stream_options: { include_usage: true } });
  });

  it('falls back from a failing native completions target to a chat-translated one', async () => {
    upstream.fault({ kind: 'status', status: 503, match: { path: '/v1/completions' } });
    const response = await complete({ model: 'instruct', prompt: 'Say this is a test', echo: true });
    expect(response.statusCode).toBe(200);
    expect(upstream.requests.map((r) => r.path)).toEqual([
      '/v1/completions',
      '/v1beta/models/gemini-2.5-flash:generateContent',
    ]);
    const body = response.json<Completion>();
    expect(body.choices[0]?.text).toMatch(/^Say this is a test\n\nHello there/);
    expect(body.model).toBe('gemini-2.5-flash');
  });

  it('passes over a chat-translated target that cannot serve a completions-only field, to a native one', async () => {
    const response = await complete({ model: 'chat-first', prompt: 'Say this is a test', logprobs: 1 });
    expect(response.statusCode).toBe(200);
    expect(upstream.requests.map((r) => r.path)).toEqual(['/v1/completions']);
    expect(response.json<Completion>().choices[0]?.logprobs).not.toBeNull();
  });

  it("answers with the native target's failure, not the chat fallback's refusal of a completions-only field", async () => {
    upstream.fault({ kind: 'status', status: 503, match: { path: '/v1/completions' } });
    const response = await complete({ model: 'instruct', prompt: 'Say this is a test', logprobs: 1 });
    expect(response.statusCode).toBeGreaterThanOrEqual(500);
    expect(response.json<{ error: { code: string } }>().error.code).not.toBe('unsupported_feature');
    expect(upstream.requests.map((r) => r.path)).toEqual(['/v1/completions']);
  });

  it('falls back for a stream too: a native stream that fails before any content goes to the chat target', async () => {
    upstream.fault({ kind: 'stream-error', afterChunks: 0, match: { path: '/v1/completions' } });
    const { status, events } = await streamed({ model: 'instruct', prompt: 'Hi', stream: true });
    expect(status).toBe(200);
    expect(upstream.requests.map((r) => r.path)).toEqual([
      '/v1/completions',
      '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    ]);
    const text = events
      .slice(0, -1)
      .map((e) => (JSON.parse(e) as Completion).choices[0]?.text ?? '')
      .join('');
    expect(text).toMatch(/^\n\nHello there/);
  });
});
