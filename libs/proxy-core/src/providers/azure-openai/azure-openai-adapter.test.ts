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
import type { ProviderCallContext } from '../provider-adapter';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../wire/openai-chat';
import type { TextCompletion } from '../../wire/openai-completions';
import { AzureOpenAIAdapter } from './azure-openai-adapter';

const API_KEY = 'azure-key-canary-0123456789abcdef';
const fixture = (name: string): string =>
  readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8');
const errors = JSON.parse(fixture('azure-openai-errors.json')) as Record<string, unknown>;

const ASYNC_ANNOTATION = {
  choices: [
    {
      content_filter_offsets: { check_offset: 4, start_offset: 0, end_offset: 4 },
      content_filter_results: { hate: { filtered: false, severity: 'safe' } },
      finish_reason: null,
      index: 0,
    },
  ],
  created: 0,
  id: '',
  model: '',
  object: '',
};

// each fixture is served under its own endpoint path, so one upstream replays them all
const FIXTURES: Record<string, FixtureReply> = {
  chat: { json: JSON.parse(fixture('azure-openai-chat.json')) },
  filtered: { json: JSON.parse(fixture('azure-openai-content-filter.json')) },
  stream: {
    stream: {
      contentType: 'text/event-stream',
      chunks: sseChunks(fixture('azure-openai-chat.chunks.txt')),
      errorChunk: (message) => `data: ${JSON.stringify({ error: { message } })}\n\n`,
    },
  },
  // Azure's asynchronous filter: annotation chunks whose choice has no delta, before, amid and after the content
  'async-filter': {
    stream: {
      contentType: 'text/event-stream',
      chunks: sseChunks(fixture('azure-openai-async-filter.chunks.txt')),
      errorChunk: () => '',
    },
  },
  // ... and its delayed refusal: an annotation that ends the choice with finish_reason content_filter
  'async-filter-blocked': {
    stream: {
      contentType: 'text/event-stream',
      chunks: sseChunks(fixture('azure-openai-async-filter-blocked.chunks.txt')),
      errorChunk: () => '',
    },
  },
  // an instruct deployment's legacy completions stream under the asynchronous filter: annotation choices have no text
  'async-filter-instruct': {
    stream: {
      contentType: 'text/event-stream',
      chunks: [
        { choices: [{ text: 'This', index: 0, logprobs: null, finish_reason: null }] },
        ASYNC_ANNOTATION,
        { choices: [{ text: ' is a test', index: 0, logprobs: null, finish_reason: null }] },
        { choices: [{ text: '', index: 0, logprobs: null, finish_reason: 'length' }] },
        ASYNC_ANNOTATION,
      ]
        .map(
          (data) =>
            `data: ${JSON.stringify('id' in data ? data : { id: 'cmpl-az1', object: 'text_completion', created: 1, model: 'gpt-35-turbo-instruct', ...data })}\n\n`,
        )
        .concat('data: [DONE]\n\n'),
      errorChunk: () => '',
    },
  },
  // two choices, of which only the first finishes, and no [DONE]
  'one-of-two': {
    stream: {
      contentType: 'text/event-stream',
      chunks: [
        [
          { index: 0, delta: { content: 'Yes' }, finish_reason: null },
          { index: 1, delta: { content: 'Yes.' }, finish_reason: null },
        ],
        [{ index: 0, delta: {}, finish_reason: 'stop' }],
      ].map(
        (choices) =>
          `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices })}\n\n`,
      ),
      errorChunk: () => '',
    },
  },
};
const routes: MockRoute[] = Object.entries(FIXTURES).map(([name, reply]) => ({
  method: 'POST',
  path: new RegExp(`^/fx/${name}/openai/deployments/[^/]+/(?:chat/)?completions$`),
  handle: (exchange) => replyWithFixture(exchange, reply),
}));

let upstream: MockUpstream;
let dispatcher: Agent;
let adapter: AzureOpenAIAdapter;

const request: ChatCompletionRequest = {
  model: 'gpt-4o',
  messages: [{ role: 'user', content: 'Does Azure OpenAI support customer managed keys?' }],
};
const call = (model = 'my-gpt4o'): ProviderCallContext => ({
  model,
  signal: new AbortController().signal,
  requestId: 'req-1',
  headers: {},
});
const make = (base = ''): AzureOpenAIAdapter =>
  new AzureOpenAIAdapter(
    { name: 'azure', type: 'azure-openai', endpoint: `${upstream.url}${base}`, apiKey: API_KEY },
    { dispatcher, logger: silentLogger },
  );

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

describe('azure-openai adapter', () => {
  it('calls the deployment named by the target model with api-key and api-version', async () => {
    const response = await adapter.chat(request, call());
    expect(response.choices[0]?.message.content).toBe('\n\nHello there, how may I assist you today?');
    const record = upstream.requests[0]!;
    expect(record.path).toBe('/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21');
    expect(record.headers['api-key']).toBe(API_KEY);
    expect(record.headers['authorization']).toBeUndefined();
  });

  it('maps the documented response, content-filter annotations included', async () => {
    const response = await make('/fx/chat').chat(request, call());
    expect(response.choices[0]?.message.content).toBe('Yes, Azure OpenAI supports customer managed keys.');
    expect(response.usage).toMatchObject({ prompt_tokens: 33, completion_tokens: 11, total_tokens: 44 });
  });

  it('keeps finish_reason content_filter', async () => {
    const response = await make('/fx/filtered').chat(request, call());
    expect(response.choices[0]?.finish_reason).toBe('content_filter');
  });

  it('streams, dropping the prompt-annotation chunk, with usage', async () => {
    const chunks = await collect(await make('/fx/stream').stream(request, call()));
    expect(chunks.every((c) => c.model === 'gpt-4o-2024-08-06' && c.id === 'chatcmpl-AAzure01')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello there');
    expect(chunks.at(-1)?.usage).toMatchObject({ total_tokens: 11 });
  });

  it('streams an asynchronous-filter stream without its annotation chunks (their choices have no delta)', async () => {
    const chunks = await collect(await make('/fx/async-filter').stream(request, call()));
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ id: 'chatcmpl-AAzureAsync1', model: 'gpt-4o-2024-08-06' });
      for (const choice of chunk.choices) expect(choice.delta).toBeTypeOf('object');
    }
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      'Customer managed keys are supported.',
    );
    expect(chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason))).toEqual([
      null,
      null,
      null,
      null,
      null,
      'stop',
    ]);
    expect(chunks.at(-1)?.usage).toMatchObject({ total_tokens: 17 });
  });

  it("keeps an asynchronous filter's delayed content_filter finish, as a chunk of the stream with an empty delta", async () => {
    const chunks = await collect(await make('/fx/async-filter-blocked').stream(request, call()));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Here are the lyrics');
    const last = chunks.at(-1);
    expect(last).toMatchObject({
      id: 'chatcmpl-AAzureAsync2',
      object: 'chat.completion.chunk',
      created: 1727000000,
      model: 'gpt-4o-2024-08-06',
      choices: [
        {
          index: 0,
          delta: {},
          finish_reason: 'content_filter',
          content_filter_results: { protected_material_text: { detected: true, filtered: true } },
        },
      ],
    });
  });

  it('streams from the mock deployment endpoint', async () => {
    const chunks = await collect(await adapter.stream(request, call()));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      '\n\nHello there, how may I assist you today?',
    );
  });

  it('uses a configured fixed deployment over the target model', async () => {
    const fixed = new AzureOpenAIAdapter(
      {
        name: 'azure',
        type: 'azure-openai',
        endpoint: upstream.url,
        apiKey: API_KEY,
        deployment: 'fixed',
        apiVersion: '2025-01-01-preview',
      },
      { dispatcher, logger: silentLogger },
    );
    await fixed.chat(request, call());
    expect(upstream.requests[0]?.path).toBe(
      '/openai/deployments/fixed/chat/completions?api-version=2025-01-01-preview',
    );
  });

  it('sends max_tokens as max_completion_tokens from api-version 2024-09-01 on (reasoning deployments refuse max_tokens), as configured otherwise', async () => {
    const withVersion = (extra: Record<string, unknown>): AzureOpenAIAdapter =>
      new AzureOpenAIAdapter(
        { name: 'azure', type: 'azure-openai', endpoint: upstream.url, apiKey: API_KEY, ...extra },
        { dispatcher, logger: silentLogger },
      );
    const capped = { ...request, max_tokens: 50 };
    // the default api-version (2024-10-21), whole and streamed
    await adapter.chat(capped, call());
    await collect(await adapter.stream(capped, call()));
    await adapter.chat({ ...capped, max_completion_tokens: 80 }, call());
    // an api-version before max_completion_tokens, and the option set either way
    await withVersion({ apiVersion: '2024-06-01' }).chat(capped, call());
    await withVersion({ apiVersion: '2024-06-01', maxCompletionTokens: true }).chat(capped, call());
    await withVersion({ maxCompletionTokens: false }).chat(capped, call());
    const sent = upstream.requests.map((record) => record.body as Record<string, unknown>);
    expect(sent.map((body) => [body['max_tokens'], body['max_completion_tokens']])).toEqual([
      [undefined, 50],
      [undefined, 50],
      [undefined, 80],
      [50, undefined],
      [undefined, 50],
      [50, undefined],
    ]);
  });

  it('sends stream_options from api-version 2024-09-01 on only: earlier ones refuse it, and their streams end without usage', async () => {
    const withVersion = (apiVersion: string): AzureOpenAIAdapter =>
      new AzureOpenAIAdapter(
        { name: 'azure', type: 'azure-openai', endpoint: upstream.url, apiKey: API_KEY, apiVersion },
        { dispatcher, logger: silentLogger },
      );
    const asking = { ...request, stream_options: { include_usage: true } };
    const versions = ['2024-06-01', '2024-08-01-preview', '2024-09-01-preview', '2024-10-21', 'preview'];
    const streams = [];
    for (const version of versions)
      streams.push(await collect(await withVersion(version).stream(asking, call())));
    const sent = upstream.requests.map(
      (record) => (record.body as Record<string, unknown>)['stream_options'],
    );
    expect(sent).toEqual([undefined, undefined, ...versions.slice(2).map(() => ({ include_usage: true }))]);
    expect(streams.map((chunks) => chunks.some((chunk) => chunk.usage != null))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    // a legacy completion streamed to an instruct deployment goes the same way
    upstream.reset();
    const completion = await withVersion('2024-06-01').streamComplete(
      { model: 'x', prompt: 'Say this is a test' },
      call('gpt-35-turbo-instruct'),
    );
    for await (const chunk of completion) expect(chunk.object).toBe('text_completion');
    expect((upstream.requests[0]?.body as Record<string, unknown>)['stream_options']).toBeUndefined();
  });

  it('completes configured instruct deployments natively at /completions, whole and streamed', async () => {
    const instruct = new AzureOpenAIAdapter(
      {
        name: 'azure',
        type: 'azure-openai',
        endpoint: upstream.url,
        apiKey: API_KEY,
        completionModels: ['gpt-35-turbo-instruct*'],
      },
      { dispatcher, logger: silentLogger },
    );
    expect(instruct.completesNatively('gpt-35-turbo-instruct-0914')).toBe(true);
    expect(instruct.completesNatively('my-gpt4o')).toBe(false);
    expect(adapter.completesNatively('gpt-35-turbo-instruct')).toBe(false);
    const whole = await instruct.complete(
      { model: 'x', prompt: 'Say this is a test', max_tokens: 7 },
      call('gpt-35-turbo-instruct'),
    );
    expect(upstream.requests[0]?.path).toBe(
      '/openai/deployments/gpt-35-turbo-instruct/completions?api-version=2024-10-21',
    );
    expect(upstream.requests[0]?.headers['api-key']).toBe(API_KEY);
    expect(whole).toMatchObject({
      object: 'text_completion',
      choices: [{ text: '\n\nThis is indeed a test', finish_reason: 'length' }],
      usage: { total_tokens: 12 },
    });
    const texts: string[] = [];
    for await (const chunk of await instruct.streamComplete(
      { model: 'x', prompt: 'Say this is a test' },
      call('gpt-35-turbo-instruct'),
    ))
      texts.push(chunk.choices[0]?.text ?? '');
    expect(texts.join('')).toBe('\n\nThis is indeed a test');
  });

  it("streams an instruct deployment's completions without the asynchronous filter's annotation chunks", async () => {
    const instruct = new AzureOpenAIAdapter(
      {
        name: 'azure',
        type: 'azure-openai',
        endpoint: `${upstream.url}/fx/async-filter-instruct`,
        apiKey: API_KEY,
        completionModels: ['gpt-35-turbo-instruct'],
      },
      { dispatcher, logger: silentLogger },
    );
    const chunks: TextCompletion[] = [];
    for await (const chunk of await instruct.streamComplete(
      { model: 'x', prompt: 'Say this is a test' },
      call('gpt-35-turbo-instruct'),
    ))
      chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.id)).toEqual(['cmpl-az1', 'cmpl-az1', 'cmpl-az1']);
    expect(
      chunks.flatMap((chunk) => chunk.choices.map((choice) => [choice.text, choice.finish_reason])),
    ).toEqual([
      ['This', null],
      [' is a test', null],
      ['', 'length'],
    ]);
  });

  it('embeds through the deployment', async () => {
    const response = await adapter.embed({ model: 'e', input: ['a'] }, call('my-embedding'));
    expect(response.data).toHaveLength(1);
    expect(upstream.requests[0]?.path).toBe(
      '/openai/deployments/my-embedding/embeddings?api-version=2024-10-21',
    );
  });

  it('maps a 400 content_filter refusal to content_filter', async () => {
    upstream.fault({ kind: 'status', status: 400, body: errors['400-content-filter'] });
    expect((await rejection(adapter.chat(request, call()))).code).toBe('content_filter');
  });

  it.each([
    [401, '401', 'upstream_auth_error'],
    [404, '404', 'upstream_not_found'],
  ] as const)('maps HTTP %i to %s', async (status, body, code) => {
    upstream.fault({ kind: 'status', status, body: errors[body] });
    expect((await rejection(adapter.chat(request, call()))).code).toBe(code);
  });

  it('maps 429 with retry-after, for a whole answer and a stream', async () => {
    upstream.fault({ kind: 'status', status: 429, body: errors['429'], headers: { 'retry-after': '6' } });
    const error = await rejection(adapter.chat(request, call()));
    expect(error).toMatchObject({ code: 'upstream_rate_limited', retryAfterMs: 6000 });
    const streamed = await rejection(adapter.stream(request, call()));
    expect(streamed.toJSON()).toEqual(error.toJSON());
    expect(streamed.retryAfterMs).toBe(6000);
  });

  it('fails a stream that ends without [DONE] before every choice asked for finished', async () => {
    const error = await rejection(collect(await make('/fx/one-of-two').stream({ ...request, n: 2 }, call())));
    expect(error.code).toBe('upstream_stream_error');
    // one choice asked for: its finish ends the stream
    expect(await collect(await make('/fx/one-of-two').stream(request, call()))).toHaveLength(2);
  });

  it('fails a stream that errors midway', async () => {
    upstream.fault({ kind: 'stream-error', afterChunks: 3 });
    expect((await rejection(collect(await adapter.stream(request, call())))).code).toBe(
      'upstream_stream_error',
    );
  });

  it('masks its key where an error event inside the 200 stream quotes it (no prefix to recognise it by)', async () => {
    // an Azure key is 32 hex characters: nothing about it says "key"
    const hexKey = 'a3f9c2e8b7d14f6a9e0c5b2d8f7a1c43';
    const hexAdapter = new AzureOpenAIAdapter(
      { name: 'azure', type: 'azure-openai', endpoint: upstream.url, apiKey: hexKey },
      { dispatcher, logger: silentLogger },
    );
    // and one that looks partly like a key, which the shape-based redaction gets to first
    for (const [subject, key] of [
      [hexAdapter, hexKey],
      [adapter, API_KEY],
    ] as const) {
      upstream.fault({ kind: 'stream-error', afterChunks: 2, message: `Key ${key} was revoked.`, times: 1 });
      const error = await rejection(collect(await subject.stream(request, call())));
      expect(error.code).toBe('upstream_stream_error');
      expect(error.message).toBe('Provider "azure" stream failed: Key [redacted] was revoked.');
      expect(error.stack).not.toContain(key);
    }
  });
});
