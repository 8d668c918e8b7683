import { createMockUpstream, replyWithFixture, type MockUpstream } from '@switchyard/testing';
import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SwitchyardError } from '../../errors/switchyard-error';
import { silentLogger } from '../../options/logger';
import type { ProviderCallContext } from '../provider-adapter';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../wire/openai-chat';
import { GeminiAdapter } from '../gemini/gemini-adapter';
import { OpenAIAdapter } from './openai-adapter';

const API_KEY = 'sk-test-canary-0123456789abcdef';
let upstream: MockUpstream;
let dispatcher: Agent;
let adapter: OpenAIAdapter;

const request: ChatCompletionRequest = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Hello!' }],
};
const call = (signal = new AbortController().signal): ProviderCallContext => ({
  model: 'gpt-4o-mini',
  signal,
  requestId: 'req-1',
  headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
});

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
  upstream = await createMockUpstream({
    routes: [
      {
        // a Gemini 3 answer with two parallel function calls, the first with a thought signature
        method: 'POST',
        path: /^\/gemini-fixture\//,
        handle: (exchange) =>
          replyWithFixture(exchange, {
            json: JSON.parse(
              readFileSync(
                new URL('../gemini/__fixtures__/function-call-thought-signature.json', import.meta.url),
                'utf8',
              ),
            ) as unknown,
          }),
      },
    ],
  });
  dispatcher = new Agent();
  adapter = new OpenAIAdapter(
    { name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: API_KEY },
    { dispatcher, logger: silentLogger },
  );
});
afterEach(() => upstream.reset());
afterAll(async () => {
  await dispatcher.close();
  await upstream.close();
});

describe('openai adapter', () => {
  it('sends the request with the key, the upstream model and trace headers, and returns the completion', async () => {
    const response = await adapter.chat({ ...request, model: 'alias' }, call());
    expect(response.object).toBe('chat.completion');
    expect(response.choices[0]?.message.content).toContain('Hello there');
    expect(response.usage).toMatchObject({ prompt_tokens: 19, completion_tokens: 10, total_tokens: 29 });
    const sent = upstream.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    expect(sent.headers['traceparent']).toMatch(/^00-/);
    expect((sent.body as { model: string }).model).toBe('gpt-4o-mini');
  });

  it('streams chunks incrementally and asks upstream for usage', async () => {
    const chunks = await collect(await adapter.stream(request, call()));
    expect((upstream.requests[0]!.body as { stream_options: unknown }).stream_options).toEqual({
      include_usage: true,
    });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('\n\nHello there, how may I assist you today?');
    expect(chunks.at(-1)?.usage).toMatchObject({ total_tokens: 29 });
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
  });

  it('streams tool calls with their arguments in pieces', async () => {
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
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({ id: 'call_abc123', function: { name: 'get_weather' } });
    expect(deltas.map((d) => d.function?.arguments ?? '').join('')).toBe('{"location":"Boston, MA"}');
  });

  it('maps 401 to upstream_auth_error without echoing the key', async () => {
    upstream.fault({
      kind: 'status',
      status: 401,
      body: {
        error: {
          message: `Incorrect API key provided: ${API_KEY}.`,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      },
    });
    const error = await rejection(adapter.chat(request, call()));
    expect(error.code).toBe('upstream_auth_error');
    expect(error.status).toBe(502);
    expect(JSON.stringify(error.toJSON())).not.toContain(API_KEY);
    expect(error.message).not.toContain(API_KEY);
  });

  it('maps 429 with Retry-After to a retryable upstream_rate_limited error', async () => {
    upstream.fault({ kind: 'status', status: 429, headers: { 'retry-after': '7' } });
    const error = await rejection(adapter.chat(request, call()));
    expect(error).toMatchObject({
      code: 'upstream_rate_limited',
      retryable: true,
      retryAfterMs: 7000,
      upstreamStatus: 429,
    });
  });

  it.each([
    [500, 'upstream_error'],
    [503, 'upstream_unavailable'],
    [404, 'upstream_not_found'],
    [400, 'upstream_bad_request'],
  ] as const)('maps HTTP %i to %s', async (status, code) => {
    upstream.fault({ kind: 'status', status });
    expect((await rejection(adapter.chat(request, call()))).code).toBe(code);
  });

  it('recognises context-length errors', async () => {
    upstream.fault({
      kind: 'status',
      status: 400,
      body: {
        error: {
          message: "This model's maximum context length is 128000 tokens.",
          code: 'context_length_exceeded',
        },
      },
    });
    expect((await rejection(adapter.chat(request, call()))).code).toBe('context_length_exceeded');
  });

  it('maps a connection reset to upstream_connection_error', async () => {
    upstream.fault({ kind: 'reset' });
    expect((await rejection(adapter.chat(request, call()))).code).toBe('upstream_connection_error');
  });

  it('throws upstream_stream_error for an error event inside a 200 stream', async () => {
    upstream.fault({ kind: 'stream-error', afterChunks: 3 });
    const error = await rejection(collect(await adapter.stream(request, call())));
    expect(error.code).toBe('upstream_stream_error');
  });

  it("keeps an error event's param and code as a non-streamed error does (code as provider_code)", async () => {
    upstream.fault({
      kind: 'stream-error',
      afterChunks: 3,
      times: 1,
      error: {
        message: 'max_tokens is too large.',
        type: 'invalid_request_error',
        param: 'max_tokens',
        code: 'integer_above_max_value',
      },
    });
    const error = await rejection(collect(await adapter.stream(request, call())));
    expect(error.toJSON()).toEqual({
      error: {
        message: 'Provider "openai" stream failed: max_tokens is too large.',
        type: 'invalid_request_error',
        param: 'max_tokens',
        code: 'upstream_bad_request',
        provider_code: 'integer_above_max_value',
      },
    });
    // a code that is no identifier, a param too long or the call's own key: left out, as there
    for (const [param, code] of [
      ['x'.repeat(300), 'bad code with spaces'],
      [API_KEY, API_KEY],
    ]) {
      upstream.fault({
        kind: 'stream-error',
        afterChunks: 3,
        times: 1,
        error: { message: 'Refused.', type: 'invalid_request_error', param, code },
      });
      const left = await rejection(collect(await adapter.stream(request, call())));
      expect([left.param, left.providerCode]).toEqual([undefined, undefined]);
      expect(left.toJSON().error).not.toHaveProperty('provider_code');
    }
  });

  it('throws upstream_stream_error for a stream cut before it finished', async () => {
    upstream.fault({ kind: 'cut-stream', afterChunks: 3 });
    const error = await rejection(collect(await adapter.stream(request, call())));
    expect(['upstream_stream_error', 'upstream_connection_error']).toContain(error.code);
  });

  it('cancels the upstream request when the caller aborts mid-stream', async () => {
    upstream.fault({ kind: 'stall-stream', afterChunks: 2 });
    const controller = new AbortController();
    const aborted = upstream.nextAbort();
    const stream = await adapter.stream({ ...request }, call(controller.signal));
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    controller.abort();
    // chunks already received may still be delivered; the stream then fails as aborted
    const drain = async (): Promise<void> => {
      for (let result = await iterator.next(); result.done !== true; result = await iterator.next());
    };
    await expect(drain()).rejects.toMatchObject({ code: 'client_closed_request' });
    expect((await aborted).path).toBe('/v1/chat/completions');
  });

  it('cancels the upstream request when the consumer stops reading mid-stream', async () => {
    upstream.fault({ kind: 'stall-stream', afterChunks: 2 });
    const aborted = upstream.nextAbort();
    const iterator = (await adapter.stream({ ...request }, call()))[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    await iterator.return?.();
    expect((await aborted).path).toBe('/v1/chat/completions');
  });

  it('delivers every chunk of consecutive streams, reading each to its [DONE]', async () => {
    const first = await collect(await adapter.stream(request, call()));
    const second = await collect(await adapter.stream(request, call()));
    expect(second).toEqual(
      first.map((chunk) => ({ ...chunk, id: second[0]?.id, created: second[0]?.created })),
    );
    expect(first.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(first.at(-1)?.usage).toBeDefined();
  });

  it('continues a conversation begun on Gemini: tool-call ids over 40 characters are shortened alike in the call and its result', async () => {
    const gemini = new GeminiAdapter(
      {
        name: 'gemini',
        type: 'gemini',
        apiKey: 'AIzaSyTestCanary0123456789abcdefghijk',
        baseUrl: `${upstream.url}/gemini-fixture`,
      },
      { dispatcher, logger: silentLogger },
    );
    const tools: ChatCompletionRequest['tools'] = [{ type: 'function', function: { name: 'get_weather' } }];
    const first = await gemini.chat(
      { ...request, tools, messages: [{ role: 'user', content: 'Weather in Paris and London?' }] },
      { ...call(), model: 'gemini-3-pro-preview' },
    );
    const calls = first.choices[0]?.message.tool_calls ?? [];
    // the first id carries the thought signature; both exceed what OpenAI accepts
    expect(calls[0]?.id).toContain('__ts_');
    expect(calls.every((c) => c.id.length > 40)).toBe(true);
    upstream.reset();

    const conversation: ChatCompletionRequest = {
      ...request,
      tools,
      messages: [
        { role: 'user', content: 'Weather in Paris and London?' },
        { role: 'assistant', content: null, tool_calls: calls },
        { role: 'tool', tool_call_id: calls[0]!.id, content: '{"temperature_c":18}' },
        { role: 'tool', tool_call_id: calls[1]!.id, content: '{"temperature_c":15}' },
      ],
    };
    const answer = await adapter.chat(conversation, call());
    expect(answer.choices[0]?.message.content).toContain('Hello there');
    const chunks = await collect(await adapter.stream(conversation, call()));
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);

    for (const sent of upstream.requests) {
      const messages = (
        sent.body as { messages: Array<{ tool_calls?: Array<{ id: string }>; tool_call_id?: string }> }
      ).messages;
      const ids = messages[1]?.tool_calls?.map((c) => c.id) ?? [];
      expect(ids).toHaveLength(2);
      expect(ids.every((id) => id.length <= 40)).toBe(true);
      expect(new Set(ids).size).toBe(2);
      expect([messages[2]?.tool_call_id, messages[3]?.tool_call_id]).toEqual(ids);
    }
    // the client's request is left as it was
    expect(conversation.messages[1]).toMatchObject({ tool_calls: calls });
  });

  it('embeds through /embeddings', async () => {
    const response = await adapter.embed(
      { model: 'e', input: ['a', 'b'], dimensions: 4 },
      { ...call(), model: 'text-embedding-3-small' },
    );
    expect(response.data).toHaveLength(2);
    expect(response.data[0]?.embedding).toHaveLength(4);
    expect(response.usage.prompt_tokens).toBe(16);
  });
});

describe('openai adapter: legacy completions', () => {
  const make = (options: { type?: string; completionModels?: string[] } = {}): OpenAIAdapter =>
    new OpenAIAdapter(
      {
        name: 'host',
        type: options.type ?? 'openai',
        baseUrl: `${upstream.url}/v1`,
        ...(options.completionModels === undefined ? {} : { completionModels: options.completionModels }),
      },
      { dispatcher, logger: silentLogger },
    );

  it("completes OpenAI's instruct and base models natively by default, and nothing else", () => {
    const openai = make();
    expect(
      ['gpt-3.5-turbo-instruct', 'gpt-3.5-turbo-instruct-0914', 'davinci-002', 'babbage-002'].map((model) =>
        openai.completesNatively(model),
      ),
    ).toEqual([true, true, true, true]);
    expect(openai.completesNatively('gpt-4o-mini')).toBe(false);
    // another OpenAI-compatible type completes only what it is configured to
    expect(make({ type: 'vllm' }).completesNatively('gpt-3.5-turbo-instruct')).toBe(false);
    const configured = make({ type: 'vllm', completionModels: ['Qwen/*', 'meta-llama/Llama-3.1-8B'] });
    expect(
      ['Qwen/Qwen2.5-7B', 'meta-llama/Llama-3.1-8B', 'meta-llama/Llama-3.1-70B'].map((model) =>
        configured.completesNatively(model),
      ),
    ).toEqual([true, true, false]);
    expect(make({ completionModels: ['*'] }).completesNatively('anything')).toBe(true);
  });

  it('fails a legacy completion stream that is cut before it finished', async () => {
    upstream.fault({ kind: 'cut-stream', afterChunks: 2, times: 1 });
    const stream = await adapter.streamComplete(
      { model: 'x', prompt: 'Say this is a test' },
      { ...call(), model: 'gpt-3.5-turbo-instruct' },
    );
    const texts: string[] = [];
    const read = async (): Promise<void> => {
      for await (const chunk of stream) texts.push(chunk.choices[0]?.text ?? '');
    };
    const error = await rejection(read());
    expect(['upstream_stream_error', 'upstream_connection_error']).toContain(error.code);
    expect(texts).toEqual(['\n\n', 'This']);
  });
});
