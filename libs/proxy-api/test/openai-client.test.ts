import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

let upstream: MockUpstream;
let app: FastifyInstance;
let client: OpenAI;

beforeAll(async () => {
  upstream = await createMockUpstream();
  app = createApp({
    gateway: {
      providers: [
        { name: 'mock', type: 'mock' },
        { name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-upstream-key-123456' },
      ],
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        {
          name: 'gpt-3.5-turbo-instruct',
          targets: [{ provider: 'openai', model: 'gpt-3.5-turbo-instruct' }],
        },
      ],
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-client', maxRetries: 0 });
});
afterAll(async () => {
  await app.close();
  await upstream.close();
});

describe('the official openai client against a listening gateway', () => {
  it('gets a completion from the mock provider', async () => {
    const completion = await client.chat.completions.create({
      model: 'mock/demo',
      messages: [{ role: 'user', content: 'Ping' }],
    });
    expect(completion.choices[0]?.message.content).toContain('You said: Ping');
  });

  it('gets a stream from the mock provider', async () => {
    const stream = await client.chat.completions.create({
      model: 'mock/demo',
      stream: true,
      messages: [{ role: 'user', content: 'Ping' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toContain('You said: Ping');
  });

  it('gets a completion through the openai adapter from the upstream', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello!' }],
    });
    expect(completion.choices[0]?.message.content).toBe('\n\nHello there, how may I assist you today?');
    expect(completion.usage?.total_tokens).toBe(29);
    expect(upstream.requests.at(-1)?.headers['authorization']).toBe('Bearer sk-upstream-key-123456');
  });

  it('gets a stream with usage through the openai adapter', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Hello!' }],
    });
    let text = '';
    let total = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      total = chunk.usage?.total_tokens ?? total;
    }
    expect(text).toBe('\n\nHello there, how may I assist you today?');
    expect(total).toBe(29);
  });

  it('gets a legacy completion with client.completions.create, natively from /v1/completions', async () => {
    const completion = await client.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say this is a test',
      max_tokens: 7,
      temperature: 0,
      logprobs: 1,
    });
    expect(upstream.requests.at(-1)?.path).toBe('/v1/completions');
    expect(completion.object).toBe('text_completion');
    expect(completion.choices[0]?.text).toBe('\n\nThis is indeed a test');
    expect(completion.choices[0]?.logprobs?.tokens).toEqual([
      '\n\n',
      'This',
      ' is',
      ' indeed',
      ' a',
      ' test',
    ]);
    expect(completion.usage).toEqual({ prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
  });

  it('streams a legacy completion with client.completions.create, natively and through chat', async () => {
    for (const [model, path, expected] of [
      ['gpt-3.5-turbo-instruct', '/v1/completions', '\n\nThis is indeed a test'],
      ['gpt-4o-mini', '/v1/chat/completions', '\n\nHello there, how may I assist you today?'],
    ] as const) {
      const stream = await client.completions.create({
        model,
        prompt: 'Say this is a test',
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let total = 0;
      for await (const chunk of stream) {
        expect(chunk.object).toBe('text_completion');
        text += chunk.choices[0]?.text ?? '';
        total = chunk.usage?.total_tokens ?? total;
      }
      expect(upstream.requests.at(-1)?.path).toBe(path);
      expect(text).toBe(expected);
      expect(total).toBeGreaterThan(0);
    }
  });

  it('surfaces a 400 and a 404 as OpenAI API errors', async () => {
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }),
    ).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
    await expect(
      client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('surfaces a stream that breaks midway as an error, not a clean end', async () => {
    upstream.fault({ kind: 'stream-error', afterChunks: 4, times: 1 });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'Hello!' }],
    });
    const read = async (): Promise<void> => {
      for await (const _chunk of stream) {
        // consume
      }
    };
    await expect(read()).rejects.toThrow(/stream failed/);
  });

  it('cancels the upstream request when the client aborts mid-stream', async () => {
    upstream.fault({ kind: 'stall-stream', afterChunks: 3, times: 1 });
    const controller = new AbortController();
    const aborted = upstream.nextAbort();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hello!' }] },
      { signal: controller.signal },
    );
    const read = async (): Promise<void> => {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) controller.abort();
      }
    };
    // the SDK may end the loop quietly or throw an abort error; either way the upstream must see it
    await read().catch((error: unknown) => expect(String(error)).toMatch(/abort/i));
    const record = await aborted;
    expect(record.aborted).toBe(true);
  });
});
