import Anthropic from '@anthropic-ai/sdk';
import { SwitchyardError } from '@switchyard/proxy-core';
import { createRequestLog, type RequestLog } from '@switchyard/proxy-logging';
import {
  anthropicErrorProblems,
  anthropicMessageProblems,
  anthropicStreamProblems,
  createMockUpstream,
  parseNamedSse,
  type MockUpstream,
} from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// The official @anthropic-ai/sdk against a listening gateway's /v1/messages, with a virtual
// key sent as x-api-key, reaching the mock provider, the anthropic adapter (Anthropic wire),
// an OpenAI-wire upstream and gemini, all answered by the mock upstream over real HTTP.

const CLIENT_KEY = 'sk-sy-anthropicsdkclient000000000000000';
const UPSTREAM_KEY = 'sk-upstream-anthropic-sdk-5e6f7a8b';

let upstream: MockUpstream;
let app: FastifyInstance;
let log: RequestLog;
let url: string;
let client: Anthropic;

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather',
  input_schema: {
    type: 'object' as const,
    properties: { location: { type: 'string' } },
    required: ['location'],
  },
};

beforeAll(async () => {
  upstream = await createMockUpstream();
  log = await createRequestLog({ store: 'sqlite', path: ':memory:', flushIntervalMs: 60_000 });
  app = createApp({
    keys: [
      { key: CLIENT_KEY, name: 'sdk-team', models: ['claude', 'gpt', 'gemini', 'mock/*', 'no-such-model'] },
    ],
    requestLog: log,
    gateway: {
      providers: [
        { name: 'mock', type: 'mock' },
        { name: 'anthropic', type: 'anthropic', baseUrl: `${upstream.url}/v1`, apiKey: UPSTREAM_KEY },
        { name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: UPSTREAM_KEY },
        { name: 'gemini', type: 'gemini', baseUrl: `${upstream.url}/v1beta`, apiKey: UPSTREAM_KEY },
      ],
      models: [
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-20250514' }] },
        { name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'gemini', targets: [{ provider: 'gemini', model: 'gemini-2.0-flash' }] },
      ],
      // each injected fault must reach the client, not be retried away
      retry: { maxRetries: 0 },
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  client = new Anthropic({ baseURL: url, apiKey: CLIENT_KEY, authToken: null, maxRetries: 0 });
});
afterAll(async () => {
  await app.close();
  await log.close();
  await upstream.close();
});

async function raw(
  body: unknown,
  headers: Record<string, string> = { 'x-api-key': CLIENT_KEY },
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const response = await request(`${url}/v1/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'tools-2024-04-04',
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

describe('the official Anthropic SDK against /v1/messages', () => {
  it.each(['mock/demo', 'claude', 'gpt', 'gemini'])('gets a valid message from %s', async (model) => {
    const message = await client.messages.create({
      model,
      max_tokens: 256,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Ping' }],
    });
    expect(anthropicMessageProblems(message)).toEqual([]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.content[0]?.type).toBe('text');
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    if (model === 'mock/demo')
      expect(message.content[0]?.type === 'text' ? message.content[0].text : '').toContain('You said: Ping');
  });

  it.each(['mock/demo', 'claude', 'gpt', 'gemini'])(
    'streams a valid event sequence from %s (messages.stream)',
    async (model) => {
      const events: string[] = [];
      const stream = client.messages.stream({
        model,
        max_tokens: 256,
        messages: [{ role: 'user', content: 'Ping' }],
      });
      stream.on('streamEvent', (event) => events.push(event.type));
      const message = await stream.finalMessage();
      expect(anthropicMessageProblems(message)).toEqual([]);
      expect(events[0]).toBe('message_start');
      expect(events.at(-1)).toBe('message_stop');
      expect(events).toContain('content_block_delta');
      expect(message.stop_reason).toBe('end_turn');
      expect(message.usage.output_tokens).toBeGreaterThan(0);
      // the prompt's size arrives with message_delta and lands in the final message
      expect(message.usage.input_tokens).toBeGreaterThan(0);
    },
  );

  it('answers the same text streamed and not through the anthropic adapter, usage included', async () => {
    const whole = await client.messages.create({
      model: 'claude',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Hello' }],
    });
    const stream = await client.messages.create({
      model: 'claude',
      max_tokens: 256,
      stream: true,
      messages: [{ role: 'user', content: 'Hello' }],
    });
    let text = '';
    let usage: Anthropic.MessageDeltaUsage | undefined;
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      if (event.type === 'message_delta') usage = event.usage;
    }
    expect(whole.content).toEqual([{ type: 'text', text }]);
    // the mock upstream reports 25 input and 15 output tokens, cache fields zero
    expect(whole.usage).toMatchObject({
      input_tokens: 25,
      output_tokens: 15,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
    expect(usage).toMatchObject({ input_tokens: 25, output_tokens: 15 });
  });

  it('writes well-formed named server-sent events', async () => {
    const response = await raw({
      model: 'gpt',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('text/event-stream');
    const events = parseNamedSse(response.text);
    expect(anthropicStreamProblems(events)).toEqual([]);
    expect(events.map((event) => event.event)).toEqual(
      expect.arrayContaining([
        'message_start',
        'ping',
        'content_block_start',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]),
    );
    expect(response.text).not.toContain('[DONE]');
  });

  it('runs a tool round trip through the anthropic adapter, streamed and not', async () => {
    const ask: Anthropic.MessageCreateParamsNonStreaming = {
      model: 'claude',
      max_tokens: 256,
      tools: [weatherTool],
      tool_choice: { type: 'tool', name: 'get_weather' },
      messages: [{ role: 'user', content: 'Weather in San Francisco?' }],
    };
    const first = await client.messages.create(ask);
    expect(anthropicMessageProblems(first)).toEqual([]);
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    expect(use).toMatchObject({ name: 'get_weather', input: { location: 'San Francisco, CA' } });
    // the upstream got Anthropic's own tool shapes back
    expect(upstream.requests.at(-1)?.body).toMatchObject({
      tools: [{ name: 'get_weather', input_schema: weatherTool.input_schema }],
      tool_choice: { type: 'tool', name: 'get_weather' },
    });

    const streamed = await client.messages.stream({ ...ask }).finalMessage();
    expect(streamed.stop_reason).toBe('tool_use');
    expect(streamed.content).toHaveLength(1);
    expect(streamed.content[0]).toMatchObject({
      type: 'tool_use',
      name: 'get_weather',
      input: { location: 'San Francisco, CA' },
    });

    const second = await client.messages.create({
      model: 'claude',
      max_tokens: 256,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in San Francisco?' },
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: use!.id, content: 'unavailable', is_error: true },
            { type: 'text', text: 'Then guess.' },
          ],
        },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    const sent = upstream.requests.at(-1)?.body as { messages: Array<{ role: string; content: unknown }> };
    expect(sent.messages.at(-2)).toMatchObject({
      role: 'assistant',
      content: [
        { type: 'tool_use', id: use!.id, name: 'get_weather', input: { location: 'San Francisco, CA' } },
      ],
    });
    expect(sent.messages.at(-1)).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: use!.id, content: 'Error: unavailable' },
        { type: 'text', text: 'Then guess.' },
      ],
    });
  });

  it('maps tool_choice any to a forced call on an OpenAI-wire upstream and streams input_json_delta', async () => {
    const events = parseNamedSse(
      (
        await raw({
          model: 'gpt',
          max_tokens: 64,
          stream: true,
          tools: [weatherTool],
          tool_choice: { type: 'any' },
          messages: [{ role: 'user', content: 'Weather?' }],
        })
      ).text,
    );
    expect(anthropicStreamProblems(events)).toEqual([]);
    expect(upstream.requests.at(-1)?.body).toMatchObject({
      tool_choice: 'required',
      tools: [{ type: 'function', function: { name: 'get_weather' } }],
    });
    const kinds = events
      .map((event) => (event.data as { delta?: { type?: string } }).delta?.type)
      .filter((kind) => kind !== undefined);
    expect(kinds).toContain('input_json_delta');
    expect(events.find((event) => event.event === 'message_delta')?.data).toMatchObject({
      delta: { stop_reason: 'tool_use' },
    });
  });

  it("sends images, stop sequences, sampling and the user id on in the provider's own shapes", async () => {
    const pixel =
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
    const message = await client.messages.create({
      model: 'gpt',
      max_tokens: 100,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['END'],
      metadata: { user_id: 'user-42' },
      system: [
        { type: 'text', text: 'First rule.' },
        { type: 'text', text: 'Second rule.' },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: pixel } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect(anthropicMessageProblems(message)).toEqual([]);
    const sent = upstream.requests.at(-1)?.body as Record<string, unknown>;
    expect(sent).toMatchObject({
      model: 'gpt-4o-mini',
      max_tokens: 100,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['END'],
      user: 'user-42',
      messages: [
        { role: 'system', content: 'First rule.' },
        { role: 'system', content: 'Second rule.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${pixel}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    // top_k has no OpenAI field: dropped, never forwarded as an unknown parameter
    expect(sent).not.toHaveProperty('top_k');
  });
});

describe("errors in Anthropic's shape", () => {
  it('answers an unknown model with 404 not_found_error', async () => {
    const error = await client.messages
      .create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect((error as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error' },
    });
  });

  it('answers a missing max_tokens with 400 invalid_request_error naming the field', async () => {
    const response = await raw({ model: 'claude', messages: [{ role: 'user', content: 'x' }] });
    expect(response.status).toBe(400);
    const body = JSON.parse(response.text) as unknown;
    expect(anthropicErrorProblems(body)).toEqual([]);
    expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect((body as { error: { message: string } }).error.message).toContain('max_tokens');
    const viaSdk = await client.messages
      .create({
        model: 'claude',
        messages: [{ role: 'user', content: 'x' }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((thrown: unknown) => thrown);
    expect(viaSdk).toBeInstanceOf(Anthropic.BadRequestError);
  });

  it('refuses content the gateway cannot carry with 400, not a silent drop', async () => {
    const response = await raw({
      model: 'gpt',
      max_tokens: 10,
      messages: [
        {
          role: 'user',
          content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }],
        },
      ],
    });
    expect(response.status).toBe(400);
    const body = JSON.parse(response.text) as { type: string; error: { type: string; message: string } };
    expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(body.error.message).toContain('document');
  });

  it("names the client's own message when a provider refuses one, though system and tool results shift the engine's messages", async () => {
    // the engine's messages: system, q, the tool calls, two tool messages, Done., the blank turn (6, not 4)
    const body = {
      model: 'claude',
      max_tokens: 16,
      system: 'Be brief.',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
            { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { location: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: 'rain' },
          ],
        },
        { role: 'assistant', content: 'Sunny in Paris, rain in Rome.' },
        { role: 'user', content: ' \n ' },
      ],
    };
    for (const stream of [false, true]) {
      const response = await raw({ ...body, stream });
      expect(response.status).toBe(400);
      const refusal = JSON.parse(response.text) as { type: string; error: { type: string; message: string } };
      expect(anthropicErrorProblems(refusal)).toEqual([]);
      expect(refusal.error.type).toBe('invalid_request_error');
      expect(refusal.error.message).toMatch(
        /^messages\.4\.content: A user message has nothing to send to Anthropic/,
      );
    }
    const viaSdk = await client.messages
      .create(body as Anthropic.MessageCreateParamsNonStreaming)
      .catch((thrown: unknown) => thrown);
    expect(viaSdk).toBeInstanceOf(Anthropic.BadRequestError);
    expect((viaSdk as InstanceType<typeof Anthropic.BadRequestError>).message).toContain(
      'messages.4.content: ',
    );
  });

  it.each(['claude', 'gemini'])(
    'refuses a user message with no content blocks on %s, naming it, rather than send the request without it (a prefill of the turn before)',
    async (model) => {
      const before = upstream.requests.length;
      const response = await raw({
        model,
        max_tokens: 16,
        system: 'Be brief.',
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'A' },
          { role: 'user', content: [] },
        ],
      });
      expect(response.status).toBe(400);
      const refusal = JSON.parse(response.text) as { type: string; error: { type: string; message: string } };
      expect(anthropicErrorProblems(refusal)).toEqual([]);
      expect(refusal.error.message).toMatch(/^messages\.2\.content: A user message has nothing to send/);
      expect(upstream.requests.length).toBe(before);
    },
  );

  it("names the client's tool_result block when Gemini refuses a result for no tool call, and its image block for a data URL it cannot read (each said only messages)", async () => {
    // the engine's messages: system, the question, the tool call, two tool messages (chat message 4 is the client's messages.2.content.1)
    const toolResults = {
      model: 'gemini',
      max_tokens: 16,
      system: 'Be brief.',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
            { type: 'tool_result', tool_use_id: 'toolu_9', content: 'rain' },
          ],
        },
      ],
    };
    // a media type with a parameter that has no value: not a data URL Gemini's inline data can carry
    const badImage = {
      model: 'gemini',
      max_tokens: 16,
      system: 'Be brief.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png;x', data: 'iVBORw0KGgo=' } },
          ],
        },
      ],
    };
    const before = upstream.requests.length;
    for (const [body, expected] of [
      [
        toolResults,
        /^messages\.2\.content\.1\.tool_use_id: Tool message answers unknown tool call "toolu_9"/,
      ],
      [badImage, /^messages\.0\.content\.1\.source: An image data URL must be base64/],
    ] as const) {
      for (const stream of [false, true]) {
        const response = await raw({ ...body, stream });
        expect(response.status).toBe(400);
        const refusal = JSON.parse(response.text) as {
          type: string;
          error: { type: string; message: string };
        };
        expect(anthropicErrorProblems(refusal)).toEqual([]);
        expect(refusal.error.type).toBe('invalid_request_error');
        expect(refusal.error.message).toMatch(expected);
      }
    }
    expect(upstream.requests.length).toBe(before);
  });

  it('passes an upstream 429 on as 429 rate_limit_error with retry-after', async () => {
    upstream.fault({
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '7' },
      body: { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } },
      times: 1,
      match: { path: '/messages' },
    });
    const error = await client.messages
      .create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const rate = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(rate.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(rate.headers.get('retry-after')).toBe('7');
  });

  it('ends a stream that fails midway with an error event, never message_stop', async () => {
    upstream.fault({ kind: 'stream-error', afterChunks: 3, times: 1 });
    const response = await raw({
      model: 'gpt',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const events = parseNamedSse(response.text);
    expect(events[0]?.event).toBe('message_start');
    expect(events.at(-1)?.event).toBe('error');
    expect(anthropicErrorProblems(events.at(-1)?.data)).toEqual([]);
    expect(events.some((event) => event.event === 'message_stop')).toBe(false);
    upstream.fault({ kind: 'stream-error', afterChunks: 3, times: 1 });
    await expect(
      client.messages
        .stream({ model: 'gpt', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] })
        .finalMessage(),
    ).rejects.toThrow(/stream failed/);
  });
});

describe('/v1/messages errors when plugins change the messages', () => {
  // an engine with a plugin that adds a system prompt to the messages the route sent, another
  // that refuses the second chunk of a stream naming chat message 3, and the condenser on
  const refuseMidStream = new SwitchyardError(
    'invalid_request',
    'A plugin refused the answer to this message.',
    { param: 'messages.3.content' },
  );
  let plugged: FastifyInstance;
  let pluggedUrl: string;
  beforeAll(async () => {
    plugged = createApp({
      keys: [{ key: CLIENT_KEY, name: 'sdk-team' }],
      gateway: {
        providers: [
          { name: 'anthropic', type: 'anthropic', baseUrl: `${upstream.url}/v1`, apiKey: UPSTREAM_KEY },
        ],
        models: [
          { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-20250514' }] },
          { name: 'claude-ruled', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-20250514' }] },
          { name: 'claude-refused', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-20250514' }] },
        ],
        retry: { maxRetries: 0 },
        plugins: [
          {
            name: 'test-house-rules',
            apply(hooks) {
              hooks.beforeRequest.tap('test-house-rules', (chat) =>
                chat.model === 'claude-ruled'
                  ? { ...chat, messages: [{ role: 'system', content: 'House rules.' }, ...chat.messages] }
                  : chat,
              );
            },
          },
          {
            name: 'test-refuse-mid-stream',
            apply(hooks) {
              const seen = new WeakMap<object, number>();
              hooks.onStreamChunk.tap('test-refuse-mid-stream', (chunk, context) => {
                if (context.requestedModel !== 'claude-refused') return chunk;
                seen.set(context, (seen.get(context) ?? 0) + 1);
                if (seen.get(context) === 2) throw refuseMidStream;
                return chunk;
              });
            },
          },
        ],
      },
      context: {
        catalog: { models: { claude: { contextWindow: 600, maxOutputTokens: 100 } } },
        condenser: {},
      },
    });
    await plugged.listen({ port: 0, host: '127.0.0.1' });
    pluggedUrl = `http://127.0.0.1:${(plugged.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await plugged.close();
  });

  async function send(
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
    const response = await request(`${pluggedUrl}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'x-api-key': CLIENT_KEY,
        ...headers,
      },
      body: JSON.stringify(body),
    });
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  }

  const blankLastTurn = (model: string) => ({
    model,
    max_tokens: 16,
    system: 'Be brief.',
    messages: [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: ' ' },
    ],
  });

  it("names the client's message when a plugin added messages before the provider refused one (it named the client's messages.3, which does not exist)", async () => {
    for (const model of ['claude-ruled', 'claude']) {
      for (const stream of [false, true]) {
        const response = await send({ ...blankLastTurn(model), stream });
        expect(response.status).toBe(400);
        const refusal = JSON.parse(response.text) as {
          type: string;
          error: { type: string; message: string };
        };
        expect(anthropicErrorProblems(refusal)).toEqual([]);
        expect(refusal.error.message).toMatch(
          /^messages\.2\.content: A user message has nothing to send to Anthropic/,
        );
      }
    }
  });

  it("names the client's message when the condenser removed turns before the provider refused one (it named only messages; the engine's index would name another of the client's messages)", async () => {
    const turns = Array.from({ length: 20 }, (_, i) => [
      { role: 'user', content: `question ${i}: ${'words '.repeat(20)}` },
      { role: 'assistant', content: `answer ${i}: ${'more words '.repeat(10)}` },
    ]).flat();
    for (const stream of [false, true]) {
      const response = await send({
        model: 'claude',
        max_tokens: 100,
        stream,
        system: 'Be brief.',
        messages: [...turns, { role: 'user', content: ' ' }],
      });
      expect(response.status).toBe(400);
      const refusal = JSON.parse(response.text) as { type: string; error: { type: string; message: string } };
      expect(anthropicErrorProblems(refusal)).toEqual([]);
      expect(refusal.error.message).toMatch(
        /^messages\.40\.content: A user message has nothing to send to Anthropic/,
      );
    }
    // the condensed conversation, answered: the condenser did act on it
    const answered = await send({
      model: 'claude',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [...turns, { role: 'user', content: 'last question' }],
    });
    expect(answered.status).toBe(200);
    expect(answered.headers['x-switchyard-condensed']).toMatch(/^middle-out;removed=\d+$/);
  });

  it("names the messages, not a wrong message, when the message refused after condensing is the condenser's truncated copy; a message it kept is named", async () => {
    // tool_use input that is not an object: Anthropic's translator refuses the tool call's arguments
    const conversation = (longAnswer: boolean) => ({
      model: 'claude',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [
        { role: 'user', content: `What is the weather? ${longAnswer ? '' : 'context '.repeat(400)}` },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: `Checking. ${longAnswer ? 'reasoning '.repeat(400) : ''}` },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: [1] },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }] },
      ],
    });
    for (const stream of [false, true]) {
      for (const [longAnswer, expected] of [
        [true, /^messages: A tool call's arguments must be a JSON object/],
        [false, /^messages\.1\.content\.1\.input: A tool call's arguments must be a JSON object/],
      ] as const) {
        const response = await send(
          { ...conversation(longAnswer), stream },
          { 'x-switchyard-condense': 'truncate-long' },
        );
        expect(response.status).toBe(400);
        const refusal = JSON.parse(response.text) as {
          type: string;
          error: { type: string; message: string };
        };
        expect(anthropicErrorProblems(refusal)).toEqual([]);
        expect(refusal.error.message).toMatch(expected);
      }
    }
  });

  it("names the client's own message in an error event raised mid-stream (it named the chat request's)", async () => {
    const response = await send({
      model: 'claude-refused',
      max_tokens: 64,
      stream: true,
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'Tell me more' },
      ],
    });
    const events = parseNamedSse(response.text);
    expect(events[0]?.event).toBe('message_start');
    expect(events.at(-1)?.event).toBe('error');
    expect(anthropicErrorProblems(events.at(-1)?.data)).toEqual([]);
    expect((events.at(-1)?.data as { error: { message: string } }).error.message).toBe(
      'messages.2.content: A plugin refused the answer to this message.',
    );
  });
});

describe("/v1/messages schema errors in Anthropic's shape", () => {
  it("name the field once: the message that quotes it is not prefixed with it again (it read messages.0.content: Invalid request: 'messages.0.content' ...)", async () => {
    const response = await raw({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 5 }] });
    expect(response.status).toBe(400);
    const refusal = JSON.parse(response.text) as { type: string; error: { type: string; message: string } };
    expect(anthropicErrorProblems(refusal)).toEqual([]);
    expect(refusal.error.message).toMatch(/^Invalid request: 'messages\.0\.content' /);
    expect(refusal.error.message.match(/messages\.0\.content/g)).toHaveLength(1);
  });
});

describe('client keys on /v1/messages', () => {
  it("accepts the virtual key as x-api-key or Bearer, and refuses a missing or wrong one in Anthropic's shape", async () => {
    const viaBearer = new Anthropic({ baseURL: url, apiKey: null, authToken: CLIENT_KEY, maxRetries: 0 });
    expect(
      (
        await viaBearer.messages.create({
          model: 'mock/demo',
          max_tokens: 16,
          messages: [{ role: 'user', content: 'x' }],
        })
      ).type,
    ).toBe('message');
    const missing = await raw(
      { model: 'mock/demo', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] },
      {},
    );
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.text)).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });
    const wrong = await new Anthropic({
      baseURL: url,
      apiKey: `${CLIENT_KEY}x`,
      authToken: null,
      maxRetries: 0,
    }).messages
      .create({ model: 'mock/demo', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] })
      .catch((thrown: unknown) => thrown);
    expect(wrong).toBeInstanceOf(Anthropic.AuthenticationError);
    const forbidden = await raw({
      model: 'openai/gpt-4o',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(forbidden.status).toBe(403);
    expect(JSON.parse(forbidden.text)).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
  });

  it('never forwards the client key upstream, and logs the request as the messages endpoint under its key', async () => {
    upstream.reset();
    await client.messages.create({
      model: 'claude',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'x' }],
    });
    const sent = upstream.requests.at(-1);
    expect(sent?.headers['x-api-key']).toBe(UPSTREAM_KEY);
    expect(JSON.stringify(upstream.requests)).not.toContain(CLIENT_KEY);
    await log.queue.flush();
    const rows = (await log.sql!.list({ limit: 100 })).data;
    expect(rows.at(0)).toMatchObject({
      endpoint: 'messages',
      api_key_name: 'sdk-team',
      provider: 'anthropic',
      requested_model: 'claude',
      status: 200,
    });
    const metrics = await request(`${url}/metrics`).then((response) => response.body.text());
    expect(metrics).toMatch(/switchyard_requests_total\{[^}]*route="messages"/);
  });

  it('still serves the openai client through an anthropic-adapter route', async () => {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
  });
});
