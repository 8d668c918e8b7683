import { readFileSync } from 'node:fs';
import {
  createMockUpstream,
  replyWithFixture,
  sseChunks,
  type FixtureReply,
  type MockRoute,
  type MockUpstream,
} from '@switchyard/testing';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SwitchyardError } from '../../errors/switchyard-error';
import { silentLogger } from '../../options/logger';
import { isVerbatimAdapter, sourceTextOf } from '../../stream/chunk-source-text';
import { usageSoFarOf } from '../../stream/stream-usage-so-far';
import type { ProviderCallContext } from '../provider-adapter';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../wire/openai-chat';
import { weatherToolTurns } from '../../../test/support/provider-test-kit';
import { AnthropicAdapter, type AnthropicProviderOptions } from './anthropic-adapter';
import type { AnthropicMessagesRequest } from './anthropic-wire';
import { fromAnthropicResponse } from './from-anthropic-response';
import { AnthropicStreamMapper } from './from-anthropic-stream';

const API_KEY = 'sk-ant-test-canary-0123456789abcdef';
const fixture = (name: string): string =>
  readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
const errors = JSON.parse(fixture('anthropic-errors.json')) as Record<string, unknown>;

// each fixture is served under its own base path, so one upstream replays them all
const stream = (name: string): FixtureReply => ({
  stream: {
    contentType: 'text/event-stream',
    chunks: sseChunks(fixture(name)),
    errorChunk: (message) =>
      `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'api_error', message } })}\n\n`,
  },
});
const FIXTURES: Record<string, FixtureReply> = {
  text: { json: JSON.parse(fixture('anthropic-text.json')) },
  'tool-use': { json: JSON.parse(fixture('anthropic-tool-use.json')) },
  'cache-usage': { json: JSON.parse(fixture('anthropic-cache-usage.json')) },
  'text-stream': stream('anthropic-text.chunks.txt'),
  'tool-use-stream': stream('anthropic-tool-use.chunks.txt'),
  'cache-usage-stream': stream('anthropic-cache-usage.chunks.txt'),
  'error-stream': stream('anthropic-stream-error.chunks.txt'),
};
const routes: MockRoute[] = [
  ...Object.entries(FIXTURES).map(([name, reply]): MockRoute => ({
    method: 'POST',
    path: new RegExp(`^/fx/${name}/v1/messages$`),
    handle: (exchange) => replyWithFixture(exchange, reply),
  })),
  // Claude Opus 4.1, Sonnet 4.5, Haiku 4.5 and later refuse a request that sets both sampling knobs
  {
    method: 'POST',
    path: /^\/one-sampler\/v1\/messages$/,
    handle: async (exchange) => {
      const body = exchange.body as Record<string, unknown>;
      if (body['temperature'] === undefined || body['top_p'] === undefined) {
        await replyWithFixture(exchange, FIXTURES['text']!);
        return;
      }
      exchange.res.writeHead(400, { 'content-type': 'application/json' });
      exchange.res.end(
        JSON.stringify({
          type: 'error',
          error: {
            type: 'invalid_request_error',
            message:
              '`temperature` and `top_p` cannot both be specified for this model. Please use only one.',
          },
        }),
      );
    },
  },
];

let upstream: MockUpstream;
let dispatcher: Agent;
let adapter: AnthropicAdapter;

const request: ChatCompletionRequest = {
  model: 'claude',
  messages: [{ role: 'user', content: 'Hello, Claude' }],
};
const call = (signal = new AbortController().signal): ProviderCallContext => ({
  model: 'claude-sonnet-4-20250514',
  signal,
  requestId: 'req-1',
  headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
});
const make = (options: Partial<AnthropicProviderOptions> = {}, base = '/v1'): AnthropicAdapter =>
  new AnthropicAdapter(
    { name: 'anthropic', type: 'anthropic', baseUrl: `${upstream.url}${base}`, apiKey: API_KEY, ...options },
    { dispatcher, logger: silentLogger },
  );
const replaying = (name: string): AnthropicAdapter => make({}, `/fx/${name}/v1`);
const sent = (): AnthropicMessagesRequest => upstream.requests.at(-1)?.body as AnthropicMessagesRequest;

async function collect(iterable: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

async function rejection(promise: Promise<unknown>): Promise<SwitchyardError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SwitchyardError);
    return error as SwitchyardError;
  }
  throw new Error('expected a rejection');
}

const text = (chunks: ChatCompletionChunk[]): string =>
  chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

beforeAll(async () => {
  upstream = await createMockUpstream({ routes });
  dispatcher = new Agent();
  adapter = make();
});
afterEach(() => upstream.reset());
afterAll(async () => {
  await dispatcher.close();
  await upstream.close();
});

describe('anthropic adapter: requests', () => {
  it('sends x-api-key, anthropic-version, the upstream model and a default max_tokens', async () => {
    const response = await adapter.chat(request, call());
    expect(response.choices[0]?.message.content).toBe('\n\nHello there, how may I assist you today?');
    const record = upstream.requests[0]!;
    expect(record.path).toBe('/v1/messages');
    expect(record.headers['x-api-key']).toBe(API_KEY);
    expect(record.headers['anthropic-version']).toBe('2023-06-01');
    expect(record.headers['authorization']).toBeUndefined();
    expect(record.headers['traceparent']).toMatch(/^00-/);
    expect(sent()).toEqual({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 4096,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello, Claude' }] }],
    });
  });

  it('answers a final turn without tools after a tool history (the mock refuses tool blocks without tools, as Anthropic does)', async () => {
    const history: ChatCompletionRequest = {
      ...request,
      messages: [
        { role: 'user', content: 'Weather in Boston?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
        { role: 'user', content: 'Summarise.' },
      ],
    };
    const response = await adapter.chat(history, call());
    expect(response.choices[0]?.finish_reason).toBe('stop');
    expect(sent().messages[1]).toEqual({
      role: 'assistant',
      content: [{ type: 'text', text: '[tool call: get_weather({})]' }],
    });
  });

  it('sends tool ids without the Gemini thought signature folded into them, the call and its result alike', async () => {
    const signed =
      'call_chatcmpl-0b1e7c2a-5d4f-4e8a-9c3b-2f6a7d8e9f01_0_0__ts_CiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPs';
    await adapter.chat(
      {
        model: 'm',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: signed,
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: signed, content: '{"temperature_c":18}' },
        ],
        tools: [
          {
            type: 'function',
            function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
          },
        ],
      },
      call(),
    );
    const [, assistant, result] = sent().messages;
    expect(assistant?.content).toEqual([
      {
        type: 'tool_use',
        id: 'call_chatcmpl-0b1e7c2a-5d4f-4e8a-9c3b-2f6a7d8e9f01_0_0',
        name: 'get_weather',
        input: { location: 'Paris' },
      },
    ]);
    expect(result?.content).toEqual([
      {
        type: 'tool_result',
        tool_use_id: 'call_chatcmpl-0b1e7c2a-5d4f-4e8a-9c3b-2f6a7d8e9f01_0_0',
        content: '{"temperature_c":18}',
      },
    ]);
  });

  it("keeps a client's own tool ids whole, even holding the signature marker: none empty, no two made one", async () => {
    const ids = ['__ts_1', 'a__ts_1', 'a__ts_2'];
    await adapter.chat(
      {
        model: 'm',
        messages: weatherToolTurns(ids),
        tools: [
          {
            type: 'function',
            function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
          },
        ],
      },
      call(),
    );
    const [, assistant, results] = sent().messages;
    expect(assistant?.content).toEqual(
      ids.map((id) => ({ type: 'tool_use', id, name: 'get_weather', input: {} })),
    );
    expect(results?.content).toEqual(
      ids.map((id) => ({ type: 'tool_result', tool_use_id: id, content: 'sunny' })),
    );
  });

  it('honours a configured default max_tokens, beta headers, and the request’s own limits', async () => {
    const configured = make({
      defaultMaxTokens: 1024,
      betas: ['prompt-caching-2024-07-31', 'token-efficient-tools-2025-02-19'],
      anthropicVersion: '2023-01-01',
    });
    await configured.chat(request, call());
    expect(sent().max_tokens).toBe(1024);
    expect(upstream.requests.at(-1)?.headers['anthropic-beta']).toBe(
      'prompt-caching-2024-07-31,token-efficient-tools-2025-02-19',
    );
    expect(upstream.requests.at(-1)?.headers['anthropic-version']).toBe('2023-01-01');
    await configured.chat({ ...request, max_tokens: 50 }, call());
    expect(sent().max_tokens).toBe(50);
    await configured.chat({ ...request, max_tokens: 50, max_completion_tokens: 70 }, call());
    expect(sent().max_tokens).toBe(70);
  });

  it('moves system and developer messages to system and keeps multi-turn order', async () => {
    await adapter.chat(
      {
        model: 'claude',
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Bonjour' },
          { role: 'user', content: 'How are you?' },
        ],
        stop: 'END',
        temperature: 0.2,
        top_p: 0.9,
        user: 'user-42',
      },
      call(),
    );
    const body = sent();
    expect(body.system).toEqual([
      { type: 'text', text: 'You are terse.' },
      { type: 'text', text: 'Answer in French.' },
    ]);
    expect(body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(body.messages[1]?.content).toEqual([{ type: 'text', text: 'Bonjour' }]);
    expect(body).toMatchObject({
      stop_sequences: ['END'],
      temperature: 0.2,
      metadata: { user_id: 'user-42' },
    });
  });

  it('sends temperature alone when a request sets both it and top_p (current Claude models refuse the two together)', async () => {
    const strict = make({}, '/one-sampler/v1');
    const both = { ...request, temperature: 0.7, top_p: 1 };
    const answer = await strict.chat(both, call());
    expect(answer.choices[0]?.message.content).toBe('Hi! My name is Claude.');
    expect(sent()).toMatchObject({ temperature: 0.7 });
    expect(sent()).not.toHaveProperty('top_p');
    // either alone is sent as it is
    await strict.chat({ ...request, top_p: 0.9 }, call());
    expect(sent()).toMatchObject({ top_p: 0.9 });
    expect(sent()).not.toHaveProperty('temperature');
    await strict.chat({ ...request, temperature: 0.3, top_p: null }, call());
    expect(sent()).toMatchObject({ temperature: 0.3 });
    expect(sent()).not.toHaveProperty('top_p');
  });

  it('sends images as base64 and URL sources', async () => {
    await adapter.chat(
      {
        model: 'claude',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in these images?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
              {
                type: 'image_url',
                image_url: {
                  url: 'https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg',
                },
              },
            ],
          },
        ],
      },
      call(),
    );
    expect(sent().messages[0]?.content).toEqual([
      { type: 'text', text: 'What is in these images?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      {
        type: 'image',
        source: {
          type: 'url',
          url: 'https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg',
        },
      },
    ]);
  });

  it('maps tools, tool calls and tool results, merging consecutive tool messages into one user turn', async () => {
    await adapter.chat(
      {
        model: 'claude',
        messages: [
          { role: 'user', content: 'Weather in SF and NYC?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'toolu_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' },
              },
              {
                id: 'toolu_2',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"New York, NY"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_1', content: '15 degrees' },
          { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '20 degrees' }] },
          { role: 'user', content: 'Which is warmer?' },
        ],
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'Get the weather',
              parameters: {
                type: 'object',
                properties: { location: { type: 'string' } },
                required: ['location'],
              },
            },
          },
        ],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
        parallel_tool_calls: false,
      },
      call(),
    );
    const body = sent();
    expect(body.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Get the weather',
        input_schema: {
          type: 'object',
          properties: { location: { type: 'string' } },
          required: ['location'],
        },
      },
    ]);
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'get_weather', disable_parallel_tool_use: true });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in SF and NYC?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'San Francisco, CA' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { location: 'New York, NY' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '15 degrees' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: '20 degrees' },
          { type: 'text', text: 'Which is warmer?' },
        ],
      },
    ]);
  });

  it.each([
    ['auto', { type: 'auto' }],
    ['required', { type: 'any' }],
    ['none', { type: 'none' }],
  ] as const)('maps tool_choice %s', async (choice, expected) => {
    await adapter.chat(
      { ...request, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: choice },
      call(),
    );
    expect(sent().tool_choice).toEqual(expected);
  });

  it('rejects what Anthropic cannot do before calling it', async () => {
    expect((await rejection(adapter.chat({ ...request, n: 2 }, call()))).code).toBe('unsupported_feature');
    const badImage = adapter.chat(
      {
        model: 'c',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }],
      },
      call(),
    );
    expect((await rejection(badImage)).code).toBe('invalid_request');
    expect(upstream.requests).toHaveLength(0);
  });

  it('rejects tool call arguments that are not a JSON object, naming the field', async () => {
    const history = (args: string): ChatCompletionRequest => ({
      model: 'c',
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: args } }],
        },
        { role: 'tool', tool_call_id: 't1', content: 'ok' },
      ],
    });
    for (const args of ['{broken', '[1,2]']) {
      const error = await rejection(adapter.chat(history(args), call()));
      expect(error).toMatchObject({
        code: 'invalid_request',
        param: 'messages.1.tool_calls.0.function.arguments',
      });
    }
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('anthropic adapter: responses (documented fixtures)', () => {
  it('maps a text message', async () => {
    const response = await replaying('text').chat(request, call());
    expect(response).toMatchObject({
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      object: 'chat.completion',
      model: 'claude-sonnet-4-20250514',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi! My name is Claude.' },
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 2095,
        completion_tokens: 503,
        total_tokens: 2598,
        prompt_tokens_details: { cached_tokens: 0 },
      },
    });
  });

  it('maps tool_use blocks to tool_calls', async () => {
    const response = await replaying('tool-use').chat(request, call());
    const choice = response.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe("I'll check the current weather in San Francisco for you.");
    expect(choice.message.tool_calls).toEqual([
      {
        id: 'toolu_01A09q90qw90lq917835lq9',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
      },
    ]);
  });

  it('counts cache reads and writes into prompt tokens, keeping them apart', async () => {
    const response = await replaying('cache-usage').chat(request, call());
    expect(response.choices[0]?.finish_reason).toBe('length');
    expect(response.usage).toEqual({
      prompt_tokens: 188107,
      completion_tokens: 393,
      total_tokens: 188500,
      prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 188086 },
    });
  });
});

describe('anthropic adapter: streams (documented fixtures)', () => {
  it('translates the text stream incrementally, with usage from message_start and message_delta combined', async () => {
    const chunks = await collect(await replaying('text-stream').stream(request, call()));
    expect(text(chunks)).toBe('Hello!');
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(
      chunks.every(
        (c) => c.id === 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY' && c.object === 'chat.completion.chunk',
      ),
    ).toBe(true);
    expect(
      chunks.find((c) => c.choices[0]?.finish_reason !== null && c.choices.length > 0)?.choices[0]
        ?.finish_reason,
    ).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 25, completion_tokens: 15, total_tokens: 40 },
    });
    expect((upstream.requests.at(-1)?.body as { stream: boolean }).stream).toBe(true);
    expect(upstream.requests.at(-1)?.headers['accept']).toBe('text/event-stream');
  });

  it('streams tool call arguments with their index after the text', async () => {
    const chunks = await collect(await replaying('tool-use-stream').stream(request, call()));
    expect(text(chunks)).toBe("Okay, let's check the weather for San Francisco, CA:");
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toEqual({
      index: 0,
      id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(deltas.every((d) => d.index === 0)).toBe(true);
    expect(JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join(''))).toEqual({
      location: 'San Francisco, CA',
      unit: 'fahrenheit',
    });
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 472, completion_tokens: 89 });
  });

  it('keeps cache-read tokens from message_start when message_delta reports only output tokens', async () => {
    const chunks = await collect(await replaying('cache-usage-stream').stream(request, call()));
    expect(chunks.at(-1)?.usage).toEqual({
      prompt_tokens: 188098,
      completion_tokens: 7,
      total_tokens: 188105,
      prompt_tokens_details: { cached_tokens: 188086, cache_creation_tokens: 0 },
    });
  });

  it('turns an overloaded error event midway into a retryable SwitchyardError after the text so far', async () => {
    const received: ChatCompletionChunk[] = [];
    const consume = async (): Promise<void> => {
      for await (const chunk of await replaying('error-stream').stream(request, call())) received.push(chunk);
    };
    const error = await rejection(consume());
    expect(error).toMatchObject({ code: 'upstream_unavailable', retryable: true });
    expect(text(received)).toBe('Hello');
  });

  it('streams from the mock Messages endpoint, tools included', async () => {
    const chunks = await collect(
      await adapter.stream(
        {
          ...request,
          tools: [{ type: 'function', function: { name: 'get_weather' } }],
          tool_choice: 'required',
        },
        call(),
      ),
    );
    const args = chunks
      .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
      .map((d) => d.function?.arguments ?? '')
      .join('');
    expect(JSON.parse(args)).toEqual({ location: 'San Francisco, CA' });
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 25, completion_tokens: 15 });
  });

  it('fails a stream cut before message_stop', async () => {
    upstream.fault({ kind: 'cut-stream', afterChunks: 4 });
    const error = await rejection(collect(await adapter.stream(request, call())));
    expect(['upstream_stream_error', 'upstream_connection_error']).toContain(error.code);
  });

  it('keeps the usage of a stream cut before message_stop where the engine reads it: input from message_start, output as of message_delta', async () => {
    expect(new AnthropicStreamMapper('anthropic', 'claude').usageSoFar()).toBeUndefined();
    // the mock's message_start counts 25 input tokens and 1 output token; its message_delta (the
    // fourteenth frame) 15 output tokens
    for (const [afterChunks, output] of [
      [4, 1],
      [14, 15],
    ] as const) {
      upstream.fault({ kind: 'stream-error', afterChunks, times: 1 });
      const stream = await adapter.stream(request, call());
      await rejection(collect(stream));
      expect(usageSoFarOf(stream)?.usageSoFar()).toMatchObject({
        prompt_tokens: 25,
        completion_tokens: output,
        total_tokens: 25 + output,
      });
    }
  });

  it('fails a stream that sends an api_error event, with its error type as provider_code', async () => {
    upstream.fault({ kind: 'stream-error', afterChunks: 4 });
    const error = await rejection(collect(await adapter.stream(request, call())));
    expect(error.code).toBe('upstream_stream_error');
    expect(error.toJSON().error).toMatchObject({ param: null, provider_code: 'api_error' });
  });

  it('cancels the upstream request when the caller aborts mid-stream', async () => {
    upstream.fault({ kind: 'stall-stream', afterChunks: 4 });
    const controller = new AbortController();
    const aborted = upstream.nextAbort();
    const iterator = (await adapter.stream(request, call(controller.signal)))[Symbol.asyncIterator]();
    await iterator.next();
    controller.abort();
    const drain = async (): Promise<void> => {
      for (let result = await iterator.next(); result.done !== true; result = await iterator.next());
    };
    await expect(drain()).rejects.toMatchObject({ code: 'client_closed_request' });
    expect((await aborted).path).toBe('/v1/messages');
  });
});

describe('anthropic adapter: errors (documented error bodies)', () => {
  it('maps 401 to upstream_auth_error without echoing the key', async () => {
    upstream.fault({ kind: 'status', status: 401, body: errors['401'] });
    const error = await rejection(adapter.chat(request, call()));
    expect(error).toMatchObject({ code: 'upstream_auth_error', status: 502, upstreamStatus: 401 });
    expect(JSON.stringify(error.toJSON())).not.toContain(API_KEY);
  });

  it('is refused by the upstream when no key is configured', async () => {
    expect((await rejection(make({ apiKey: undefined }).chat(request, call()))).code).toBe(
      'upstream_auth_error',
    );
  });

  it('maps 429 with retry-after to a retryable upstream_rate_limited error', async () => {
    upstream.fault({ kind: 'status', status: 429, body: errors['429'], headers: { 'retry-after': '12' } });
    const error = await rejection(adapter.chat(request, call()));
    expect(error).toMatchObject({ code: 'upstream_rate_limited', retryable: true, retryAfterMs: 12_000 });
    expect(error.message).toContain('per-minute rate limit');
  });

  it.each([
    [403, '403', 'upstream_auth_error'],
    [404, '404', 'upstream_not_found'],
    [400, '400', 'upstream_bad_request'],
    [400, '400-context', 'context_length_exceeded'],
    [400, '400-context-max-tokens', 'context_length_exceeded'],
    [413, '413', 'request_too_large'],
    [500, '500', 'upstream_error'],
    [529, '529', 'upstream_unavailable'],
  ] as const)('maps HTTP %i (%s) to %s', async (status, body, code) => {
    upstream.fault({ kind: 'status', status, body: errors[body] });
    const error = await rejection(adapter.chat(request, call()));
    expect(error.code).toBe(code);
    expect(error.upstreamStatus).toBe(status);
  });

  it('maps 529 overloaded on a stream request before any byte to upstream_unavailable', async () => {
    upstream.fault({ kind: 'status', status: 529, body: errors['529'] });
    expect(await rejection(adapter.stream(request, call()))).toMatchObject({
      code: 'upstream_unavailable',
      retryable: true,
    });
  });

  it('maps a connection reset to upstream_connection_error', async () => {
    upstream.fault({ kind: 'reset' });
    expect((await rejection(adapter.chat(request, call()))).code).toBe('upstream_connection_error');
  });
});

describe('anthropic adapter: which stop sequence matched', () => {
  it('keeps the matched stop sequence on the choice, whole and streamed, for the Anthropic ingress', () => {
    const body = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude',
      content: [{ type: 'text', text: 'one two' }],
      stop_reason: 'stop_sequence',
      stop_sequence: '###',
      usage: { input_tokens: 3, output_tokens: 2 },
    };
    const choice = fromAnthropicResponse(body, 'anthropic', 'claude').choices[0];
    expect(choice).toMatchObject({ finish_reason: 'stop', stop_sequence: '###' });
    const ended = fromAnthropicResponse(
      { ...body, stop_reason: 'end_turn', stop_sequence: null },
      'anthropic',
      'claude',
    ).choices[0];
    expect(ended).not.toHaveProperty('stop_sequence');
    const mapper = new AnthropicStreamMapper('anthropic', 'claude');
    mapper.map({
      event: 'message_start',
      id: undefined,
      data: JSON.stringify({
        type: 'message_start',
        message: { ...body, content: [], stop_reason: null, stop_sequence: null },
      }),
    });
    const [finish] = mapper.map({
      event: 'message_delta',
      id: undefined,
      data: JSON.stringify({
        type: 'message_delta',
        delta: { stop_reason: 'stop_sequence', stop_sequence: '###' },
        usage: { output_tokens: 2 },
      }),
    });
    expect(finish?.choices[0]).toMatchObject({ finish_reason: 'stop', stop_sequence: '###' });
  });
});

describe('anthropic adapter: stop sequences of whitespace only, which Anthropic refuses', () => {
  const reply = 'First line.\nSecond line.\n\nThird paragraph.';
  let own: MockUpstream;
  let claude: AnthropicAdapter;
  const lastSent = (): AnthropicMessagesRequest => own.requests.at(-1)?.body as AnthropicMessagesRequest;

  beforeAll(async () => {
    // a reply of several lines, streamed in pieces that split "\n\n"
    own = await createMockUpstream({ replyText: reply, streamChunks: 13 });
    claude = new AnthropicAdapter(
      { name: 'anthropic', type: 'anthropic', baseUrl: `${own.url}/v1`, apiKey: API_KEY },
      { dispatcher, logger: silentLogger },
    );
  });
  afterAll(async () => {
    await own.close();
  });

  it('is refused by the Messages API (the mock, as Anthropic: a client sending it raw gets a 400)', async () => {
    const response = await fetch(`${own.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': API_KEY,
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({
        model: 'claude-sonnet-4-20250514',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Hi' }],
        stop_sequences: ['\n'],
      }),
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('each stop sequence must contain non-whitespace');
  });

  it('refuses an empty one before sending, whole and streamed, as Bedrock does (it was dropped unsaid)', async () => {
    const before = own.requests.length;
    for (const answer of [
      claude.chat({ ...request, stop: ['END', ''] }, call()),
      claude.stream({ ...request, stream: true, stop: '' }, call()),
    ]) {
      expect(await rejection(answer)).toMatchObject({
        code: 'unsupported_feature',
        param: expect.stringMatching(/^stop(\.1)?$/) as unknown,
        beforeSending: true,
      });
    }
    expect(own.requests).toHaveLength(before);
  });

  it('ends a whole answer at the first one, sending Anthropic only the others', async () => {
    const answer = await claude.chat({ ...request, stop: ['END', '\n'] }, call());
    expect(lastSent().stop_sequences).toEqual(['END']);
    expect(answer.choices[0]).toMatchObject({
      message: { role: 'assistant', content: 'First line.' },
      finish_reason: 'stop',
      stop_sequence: '\n',
    });
    // Anthropic's own count: it generated the whole reply
    expect(answer.usage).toMatchObject({ prompt_tokens: 25, completion_tokens: 15 });
    const paragraph = await claude.chat({ ...request, stop: '\n\n' }, call());
    expect(lastSent()).not.toHaveProperty('stop_sequences');
    expect(paragraph.choices[0]?.message.content).toBe('First line.\nSecond line.');
    // none met: the answer as it came
    const whole = await claude.chat({ ...request, stop: ['\t'] }, call());
    expect(whole.choices[0]).toMatchObject({ message: { content: reply }, finish_reason: 'stop' });
    expect(whole.choices[0]).not.toHaveProperty('stop_sequence');
  });

  it('ends a stream at the first one, across the pieces it came in, with a finish chunk naming it and the usage so far', async () => {
    const chunks = await collect(await claude.stream({ ...request, stream: true, stop: ['\n\n'] }, call()));
    expect(lastSent()).not.toHaveProperty('stop_sequences');
    expect(text(chunks)).toBe('First line.\nSecond line.');
    const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason != null);
    expect(finish?.choices[0]).toMatchObject({ finish_reason: 'stop', stop_sequence: '\n\n' });
    const usage = chunks.at(-1)?.usage;
    expect(usage?.prompt_tokens).toBe(25);
    // Anthropic counts output only at the end: at least what arrived, about 4 characters a token
    expect(usage?.completion_tokens).toBeGreaterThanOrEqual(
      Math.ceil('First line.\nSecond line.'.length / 4),
    );
    const oneLine = await collect(await claude.stream({ ...request, stream: true, stop: '\n' }, call()));
    expect(text(oneLine)).toBe('First line.');
  });

  it('holds back only what may begin a sequence, and sends it at the end of the text block when none follows', () => {
    const mapper = new AnthropicStreamMapper('anthropic', 'claude', ['\n\n']);
    const event = (data: Record<string, unknown>) => ({
      event: String(data['type']),
      id: undefined,
      data: JSON.stringify(data),
    });
    const delta = (piece: string) =>
      mapper.map(
        event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } }),
      );
    const texts = (list: ChatCompletionChunk[]) => list.map((chunk) => chunk.choices[0]?.delta.content);
    mapper.map(
      event({
        type: 'message_start',
        message: { id: 'msg_1', model: 'claude', content: [], usage: { input_tokens: 3, output_tokens: 1 } },
      }),
    );
    expect(texts(delta('one\n'))).toEqual(['one']);
    // the held "\n" goes on with a character that completes no sequence
    expect(texts(delta('x\u{1F600}'))).toEqual(['\nx\u{1F600}']);
    expect(texts(delta(' two\n'))).toEqual([' two']);
    // the block ends: what was held back was text after all
    expect(texts(mapper.map(event({ type: 'content_block_stop', index: 0 })))).toEqual(['\n']);
    expect(mapper.done).toBe(false);
    const ended = delta('a\n\nb');
    expect(texts(ended)[0]).toBe('a');
    expect(ended.at(-2)?.choices[0]).toMatchObject({ finish_reason: 'stop', stop_sequence: '\n\n' });
    expect(ended.at(-1)?.usage).toMatchObject({ prompt_tokens: 3 });
    expect(mapper.done).toBe(true);
  });
});

describe('anthropic stream mapper: tools without input', () => {
  const event = (data: unknown) => ({ event: undefined, id: undefined, data: JSON.stringify(data) });

  it('streams "{}" as the arguments of a tool called without input, and nothing more for one with input', () => {
    const mapper = new AnthropicStreamMapper('anthropic', 'claude');
    const chunks = [
      ...mapper.map(
        event({
          type: 'message_start',
          message: {
            id: 'msg_1',
            type: 'message',
            role: 'assistant',
            content: [],
            model: 'claude',
            usage: { input_tokens: 3, output_tokens: 1 },
          },
        }),
      ),
      ...mapper.map(
        event({
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_time', input: {} },
        }),
      ),
      ...mapper.map(
        event({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: '' },
        }),
      ),
      ...mapper.map(event({ type: 'content_block_stop', index: 0 })),
      ...mapper.map(
        event({
          type: 'content_block_start',
          index: 1,
          content_block: { type: 'tool_use', id: 'toolu_2', name: 'now', input: {} },
        }),
      ),
      ...mapper.map(event({ type: 'content_block_stop', index: 1 })),
      ...mapper.map(
        event({
          type: 'content_block_start',
          index: 2,
          content_block: { type: 'tool_use', id: 'toolu_3', name: 'f', input: {} },
        }),
      ),
      ...mapper.map(
        event({
          type: 'content_block_delta',
          index: 2,
          delta: { type: 'input_json_delta', partial_json: '{"a":1}' },
        }),
      ),
      ...mapper.map(event({ type: 'content_block_stop', index: 2 })),
      ...mapper.map(
        event({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 5 } }),
      ),
      ...mapper.map(event({ type: 'message_stop' })),
    ];
    const args = new Map<number, string>();
    for (const call of chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []))
      args.set(call.index, (args.get(call.index) ?? '') + (call.function?.arguments ?? ''));
    expect([...args.values()]).toEqual(['{}', '{}', '{"a":1}']);
  });
});

describe('anthropic stream mapper: the JSON text of its text chunks', () => {
  const event = (data: unknown) => ({ event: undefined, id: undefined, data: JSON.stringify(data) });
  const delta = (text: unknown) =>
    event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });

  it('remembers for each text chunk exactly the text JSON.stringify gives it, before and after message_start', () => {
    const mapper = new AnthropicStreamMapper('anthropic', 'claude "default"');
    const texts = [
      'Hello',
      ' "quoted" \\ back\nslash',
      'line\nbreak\r\u2028\u2029',
      'café 🙂 \ud800 lone',
      '</script>\u0000\u001f',
    ];
    const chunks: ChatCompletionChunk[] = [...mapper.map(delta('before start'))];
    chunks.push(
      ...mapper.map(
        event({
          type: 'message_start',
          message: {
            id: 'msg_"1"\n',
            type: 'message',
            role: 'assistant',
            content: [],
            model: 'claude-ü',
            usage: { input_tokens: 3, output_tokens: 1 },
          },
        }),
      ),
    );
    chunks.push(
      ...mapper.map(
        event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: 'start' } }),
      ),
    );
    for (const text of texts) chunks.push(...mapper.map(delta(text)));
    chunks.push(...mapper.map(delta(['not', 'a', 'string'])));
    const withText = chunks.filter((chunk) => sourceTextOf(chunk) !== undefined);
    expect(withText.map((chunk) => chunk.choices[0]?.delta.content)).toEqual([
      'before start',
      'start',
      ...texts,
      ['not', 'a', 'string'],
    ]);
    for (const chunk of withText) expect(sourceTextOf(chunk)).toBe(JSON.stringify(chunk));
    expect(withText.slice(1).every((chunk) => chunk.id === 'msg_"1"\n' && chunk.model === 'claude-ü')).toBe(
      true,
    );
    expect(withText[0]?.model).toBe('claude "default"');
  });

  it('remembers no text for the role, tool-call, finish and usage chunks, which the HTTP edge serialises', () => {
    const mapper = new AnthropicStreamMapper('anthropic', 'claude');
    const chunks = [
      ...mapper.map(
        event({
          type: 'message_start',
          message: {
            id: 'msg_1',
            type: 'message',
            role: 'assistant',
            content: [],
            model: 'claude',
            usage: { input_tokens: 3, output_tokens: 1 },
          },
        }),
      ),
      ...mapper.map(
        event({
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} },
        }),
      ),
      ...mapper.map(
        event({
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: '{"a":1}' },
        }),
      ),
      ...mapper.map(
        event({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 5 } }),
      ),
      ...mapper.map(event({ type: 'message_stop' })),
    ];
    expect(chunks).toHaveLength(5);
    for (const chunk of chunks) expect(sourceTextOf(chunk)).toBeUndefined();
  });

  it('marks the built-in adapter as verbatim, and not a subclass of it', () => {
    class Subclass extends AnthropicAdapter {}
    const options = { name: 'anthropic', type: 'anthropic', apiKey: API_KEY };
    const kit = { dispatcher, logger: silentLogger };
    expect(isVerbatimAdapter(new AnthropicAdapter(options, kit))).toBe(true);
    expect(isVerbatimAdapter(new Subclass(options, kit))).toBe(false);
  });
});
