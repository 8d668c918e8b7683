import {
  createMockUpstream,
  ndjsonChunks,
  OLLAMA_MOCK_THINKING,
  replyWithFixture,
  type MockUpstream,
} from '@switchyard/testing';
import type { Socket } from 'node:net';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  basicRequest,
  callContext,
  collect,
  decodeBase64Floats,
  fixtureJson,
  fixtureText,
  rejection,
  streamedText,
  toolRoundTripRequest,
} from '../../../test/support/provider-test-kit';
import { functionCall } from '../../../test/support/function-tool-forms';
import { silentLogger } from '../../options/logger';
import { OllamaAdapter } from './ollama-adapter';
import type { ChatCompletionRequest } from '../../wire/openai-chat';

const API_KEY = 'sk-ollama-canary-0123456789';
const fixture = (name: string): URL => new URL(`./__fixtures__/${name}`, import.meta.url);
let upstream: MockUpstream;
let dispatcher: Agent;
let adapter: OllamaAdapter;
let fixtureAdapter: OllamaAdapter;
let next: Parameters<typeof replyWithFixture>[1] | undefined;
/** The sockets of the calls to the late-end route, in order. */
const lateSockets: Socket[] = [];
/** Ends the body of the late-end route's first answer. */
let endLateBody: () => void = () => undefined;

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        method: 'POST',
        path: /^\/fixture\//,
        handle: (exchange) =>
          replyWithFixture(exchange, next ?? { status: 500, json: { error: 'no fixture set' } }),
      },
      {
        // the done line, then the end of the body only when the test says so (first call)
        method: 'POST',
        path: /^\/late-end\//,
        handle: ({ req, res }) => {
          lateSockets.push(req.socket);
          res.writeHead(200, { 'content-type': 'application/x-ndjson' });
          res.write(
            '{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"Hi"},"done":false}\n' +
              '{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":1}\n',
          );
          if (lateSockets.length === 1) endLateBody = () => res.end();
          else res.end();
        },
      },
    ],
  });
  dispatcher = new Agent();
  const kit = { dispatcher, logger: silentLogger };
  adapter = new OllamaAdapter(
    { name: 'ollama', type: 'ollama', baseUrl: upstream.url, apiKey: API_KEY, keepAlive: '5m' },
    kit,
  );
  fixtureAdapter = new OllamaAdapter(
    { name: 'ollama', type: 'ollama', baseUrl: `${upstream.url}/fixture` },
    kit,
  );
});
afterEach(() => {
  upstream.reset();
  next = undefined;
});
afterAll(async () => {
  await dispatcher.close();
  await upstream.close();
});

describe('ollama adapter', () => {
  it('maps a documented /api/chat response with its token counts', async () => {
    next = { json: fixtureJson(fixture('chat.json')) };
    const response = await fixtureAdapter.chat(basicRequest, callContext('llama3.2'));
    const sent = upstream.requests[0]!;
    expect(sent.path).toBe('/fixture/api/chat');
    expect(sent.body).toEqual({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'Hello!' }],
      stream: false,
    });
    expect(response.choices[0]).toMatchObject({
      finish_reason: 'stop',
      message: { content: 'Hello! How are you today?' },
    });
    expect(response.usage).toEqual({ prompt_tokens: 26, completion_tokens: 298, total_tokens: 324 });
    expect(response.created).toBe(Math.floor(Date.parse('2023-12-12T14:13:43.416799Z') / 1000));
  });

  it('translates images, tool calls, tool results and options, with the bearer key and keep_alive', async () => {
    await adapter.chat(toolRoundTripRequest, callContext('llama3.2'));
    const sent = upstream.requests[0]!;
    expect(sent.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    expect(sent.body).toMatchObject({
      model: 'llama3.2',
      stream: false,
      keep_alive: '5m',
      options: { temperature: 0.3, num_predict: 256, stop: ['END'] },
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        {
          role: 'user',
          content: 'What is the weather where this photo was taken?',
          images: [expect.stringMatching(/^iVBOR/) as unknown],
        },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ function: { name: 'get_weather', arguments: { location: 'Boston, MA' } } }],
        },
        { role: 'tool', content: '{"temperature_c":21}', tool_name: 'get_weather' },
      ],
    });
  });

  it("joins a message's text parts with a line break, not glued together (Ollama takes content as one string)", async () => {
    const parts = (...texts: string[]) => texts.map((text) => ({ type: 'text' as const, text }));
    await adapter.chat(
      {
        ...basicRequest,
        messages: [
          { role: 'system', content: parts('You are terse.', '', 'Answer in French.') },
          { role: 'user', content: parts('Hello', 'world') },
          {
            role: 'assistant',
            content: parts('Bonjour', 'le monde'),
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: parts('line one', 'line two') },
        ],
      },
      callContext('llama3.2'),
    );
    expect((upstream.requests[0]!.body as { messages: Array<{ content: string }> }).messages).toEqual([
      { role: 'system', content: 'You are terse.\nAnswer in French.' },
      { role: 'user', content: 'Hello\nworld' },
      expect.objectContaining({ role: 'assistant', content: 'Bonjour\nle monde' }),
      { role: 'tool', content: 'line one\nline two', tool_name: 'f' },
    ]);
  });

  it('refuses n > 1 with unsupported_feature instead of answering with one choice, and sends nothing', async () => {
    for (const call of [
      adapter.chat({ ...basicRequest, n: 2 }, callContext('llama3.2')),
      adapter.stream({ ...basicRequest, n: 3 }, callContext('llama3.2')),
    ]) {
      expect(await rejection(call)).toMatchObject({ code: 'unsupported_feature', param: 'n' });
    }
    expect(upstream.requests).toHaveLength(0);
    await adapter.chat({ ...basicRequest, n: 1 }, callContext('llama3.2'));
    expect(upstream.requests).toHaveLength(1);
  });

  it('refuses content parts Ollama cannot take (audio, a file), naming the part, and sends nothing', async () => {
    const request = {
      ...basicRequest,
      messages: [
        {
          role: 'user' as const,
          content: [
            { type: 'text' as const, text: 'Transcribe this:' },
            { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
          ],
        },
      ],
    } as unknown as ChatCompletionRequest;
    expect(await rejection(adapter.chat(request, callContext('llama3.2')))).toMatchObject({
      code: 'invalid_request',
      status: 400,
      param: 'messages.0.content.1.type',
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it('honours tool_choice as far as Ollama can: none sends no tools, a named function that tool alone', async () => {
    const tools = [
      { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } },
      { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object' } } },
    ];
    const sentTools = async (tool_choice: ChatCompletionRequest['tool_choice']): Promise<unknown> => {
      upstream.reset();
      await adapter.chat({ ...basicRequest, tools, tool_choice }, callContext('llama3.2'));
      return (upstream.requests[0]?.body as { tools?: Array<{ function: { name: string } }> }).tools?.map(
        (tool) => tool.function.name,
      );
    };
    expect(await sentTools('none')).toBeUndefined();
    expect(await sentTools({ type: 'function', function: { name: 'get_time' } })).toEqual(['get_time']);
    expect(await sentTools('auto')).toEqual(['get_weather', 'get_time']);
    expect(await sentTools('required')).toEqual(['get_weather', 'get_time']);
    expect(await sentTools(undefined)).toEqual(['get_weather', 'get_time']);
  });

  it('sends reasoning_effort as think where Ollama takes it, and never a think that turns a working request into a 400', async () => {
    // the mock refuses as Ollama does: a level for any model but gpt-oss, thinking for a model that cannot
    const sentThink = async (
      model: string,
      reasoning_effort: ChatCompletionRequest['reasoning_effort'],
    ): Promise<unknown> => {
      upstream.reset();
      const response = await adapter.chat({ ...basicRequest, reasoning_effort }, callContext(model));
      // the reasoning is not part of the answer
      expect(response.choices[0]?.message.content).toBe('\n\nHello there, how may I assist you today?');
      const body = upstream.requests[0]?.body as Record<string, unknown>;
      return 'think' in body ? body['think'] : 'absent';
    };
    const gptOss = [];
    for (const effort of ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const)
      gptOss.push(await sentThink('gpt-oss:20b', effort));
    expect(gptOss).toEqual(['low', 'low', 'low', 'medium', 'high', 'high']);
    expect(await sentThink('gpt-oss-safeguard:120b', 'medium')).toBe('medium');
    expect(await sentThink('hf.co/unsloth/gpt-oss-20b-GGUF', 'high')).toBe('high');
    expect(await sentThink('gpt-oss', 'low')).toBe('low');
    expect(await sentThink('hf.co/bartowski/openai_gpt-oss-20b-GGUF', 'medium')).toBe('medium');
    // a Qwen 3 named after gpt-oss takes no level
    expect(await sentThink('hf.co/someone/gpt-oss-distill-qwen3-8b-GGUF', 'high')).toBe('absent');
    expect(await sentThink('hf.co/someone/gpt-oss-distill-qwen3-8b-GGUF', 'none')).toBe(false);
    // other models: `none` turns thinking off (every model takes false), the rest think by default
    expect(await sentThink('qwen3:8b', 'none')).toBe(false);
    expect(await sentThink('qwen3:8b', 'high')).toBe('absent');
    expect(await sentThink('llama3.2', 'none')).toBe(false);
    expect(await sentThink('llama3.2', 'xhigh')).toBe('absent');
    expect(await sentThink('llama3.2', null)).toBe('absent');
    expect(await sentThink('llama3.2', undefined)).toBe('absent');
  });

  it("streams a thinking model's answer without its reasoning, and refuses an effort OpenAI does not define", async () => {
    const chunks = await collect(
      await adapter.stream({ ...basicRequest, reasoning_effort: 'xhigh' }, callContext('gpt-oss:120b')),
    );
    expect((upstream.requests[0]!.body as { think: unknown }).think).toBe('high');
    expect(streamedText(chunks)).toBe('\n\nHello there, how may I assist you today?');
    expect(JSON.stringify(chunks)).not.toContain(OLLAMA_MOCK_THINKING.slice(0, 10));
    upstream.reset();
    const bad = { ...basicRequest, reasoning_effort: 'max' } as unknown as ChatCompletionRequest;
    for (const call of [
      adapter.chat(bad, callContext('gpt-oss:20b')),
      adapter.stream(bad, callContext('qwen3')),
    ]) {
      expect(await rejection(call)).toMatchObject({ code: 'invalid_request', param: 'reasoning_effort' });
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('rejects image URLs, which Ollama cannot fetch, naming the part (it named only "messages"), and sends nothing', async () => {
    const request = {
      ...basicRequest,
      messages: [
        { role: 'system' as const, content: 'Be brief.' },
        {
          role: 'user' as const,
          content: [
            { type: 'text' as const, text: 'What is this?' },
            { type: 'image_url' as const, image_url: { url: 'https://example.com/a.png' } },
          ],
        },
      ],
    };
    expect(await rejection(adapter.chat(request, callContext('llava')))).toMatchObject({
      code: 'unsupported_feature',
      status: 400,
      provider: 'ollama',
      param: 'messages.1.content.1.image_url.url',
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it('names the image part whose data URL is not base64, and the tool call whose arguments are not a JSON object (each named only "messages")', async () => {
    const image = {
      ...basicRequest,
      messages: [
        {
          role: 'user' as const,
          content: [{ type: 'image_url' as const, image_url: { url: 'data:image/png,iVBORw0KGgo=' } }],
        },
      ],
    };
    expect(await rejection(adapter.chat(image, callContext('llava')))).toMatchObject({
      code: 'invalid_request',
      status: 400,
      param: 'messages.0.content.0.image_url.url',
    });
    const calls = [
      { id: 'call_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{}' } },
      { id: 'call_2', type: 'function' as const, function: { name: 'get_weather', arguments: '[1]' } },
    ];
    const args = {
      ...basicRequest,
      messages: [
        { role: 'user' as const, content: 'Weather?' },
        { role: 'assistant' as const, content: null, tool_calls: calls },
      ],
    };
    expect(await rejection(adapter.chat(args, callContext('llama3.2')))).toMatchObject({
      code: 'invalid_request',
      status: 400,
      param: 'messages.1.tool_calls.1.function.arguments',
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it('maps a documented tool call response', async () => {
    next = { json: fixtureJson(fixture('tool-call.json')) };
    const response = await fixtureAdapter.chat(toolRoundTripRequest, callContext('llama3.2'));
    const choice = response.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls?.[0]).toMatchObject({
      type: 'function',
      function: { name: 'get_current_weather' },
    });
    expect(JSON.parse(functionCall(choice.message.tool_calls?.[0])?.function.arguments ?? '')).toEqual({
      format: 'celsius',
      location: 'Paris, FR',
    });
  });

  it('replays a documented NDJSON stream with usage from the done line', async () => {
    next = {
      stream: {
        contentType: 'application/x-ndjson',
        chunks: ndjsonChunks(fixtureText(fixture('stream.chunks.txt'))),
        errorChunk: () => '',
      },
    };
    const chunks = await collect(await fixtureAdapter.stream(basicRequest, callContext('llama3.2')));
    expect((upstream.requests[0]!.body as { stream: boolean }).stream).toBe(true);
    expect(streamedText(chunks)).toBe('The sky is blue.');
    expect(chunks.filter((c) => c.choices[0]?.finish_reason === 'stop')).toHaveLength(1);
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 26, completion_tokens: 282, total_tokens: 308 });
  });

  it('keeps the connection when the end of the body comes after the done line', async () => {
    const single = new Agent({ connections: 1 });
    const late = new OllamaAdapter(
      { name: 'ollama', type: 'ollama', baseUrl: `${upstream.url}/late-end` },
      { dispatcher: single, logger: silentLogger },
    );
    // the stream ends at its done line, without waiting for the end of the body; the rest is
    // read and dropped rather than the request cancelled (a Node Readable read by readNdjson's
    // for-await was destroyed there, closing the connection)
    expect(streamedText(await collect(await late.stream(basicRequest, callContext('llama3.2'))))).toBe('Hi');
    endLateBody();
    expect(streamedText(await collect(await late.stream(basicRequest, callContext('llama3.2'))))).toBe('Hi');
    expect(lateSockets).toHaveLength(2);
    expect(lateSockets[1]).toBe(lateSockets[0]);
    expect(lateSockets[0]?.destroyed).toBe(false);
    await single.close();
  });

  it('cancels the upstream request when the caller aborts mid-stream', async () => {
    upstream.fault({ kind: 'stall-stream', afterChunks: 2 });
    const controller = new AbortController();
    const aborted = upstream.nextAbort();
    const iterator = (await adapter.stream(basicRequest, callContext('llama3.2', controller.signal)))[
      Symbol.asyncIterator
    ]();
    expect((await iterator.next()).done).toBe(false);
    controller.abort();
    // chunks already received may still be delivered; the stream then fails as aborted
    const drain = async (): Promise<void> => {
      for (let result = await iterator.next(); result.done !== true; result = await iterator.next());
    };
    await expect(drain()).rejects.toMatchObject({ code: 'client_closed_request' });
    expect((await aborted).path).toBe('/api/chat');
  });

  it('streams tool calls from the mock upstream', async () => {
    const chunks = await collect(await adapter.stream(toolRoundTripRequest, callContext('llama3.2')));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({
      index: 0,
      function: { name: 'get_weather', arguments: '{"location":"Boston, MA"}' },
    });
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
  });

  it.each([
    ['unauthorized.json', 401, 'upstream_auth_error'],
    ['unauthorized.json', 403, 'upstream_auth_error'],
    ['model-not-found.json', 404, 'upstream_not_found'],
    ['model-not-found.json', 500, 'upstream_error'],
    ['model-not-found.json', 503, 'upstream_unavailable'],
  ] as const)('maps %s with HTTP %i to %s', async (file, status, code) => {
    upstream.fault({ kind: 'status', status, body: fixtureJson(fixture(file)) });
    const error = await rejection(adapter.chat(basicRequest, callContext('llama3.2')));
    expect(error.code).toBe(code);
    expect(JSON.stringify(error.toJSON())).not.toContain(API_KEY);
  });

  it('maps 429 with Retry-After to a retryable rate-limit error, for a whole answer and a stream', async () => {
    upstream.fault({
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '3' },
      body: { error: 'too many requests' },
    });
    const error = await rejection(adapter.chat(basicRequest, callContext('llama3.2')));
    expect(error).toMatchObject({ code: 'upstream_rate_limited', retryAfterMs: 3000 });
    const streamed = await rejection(adapter.stream(basicRequest, callContext('llama3.2')));
    expect(streamed.toJSON()).toEqual(error.toJSON());
    expect(streamed.retryAfterMs).toBe(3000);
  });

  it('fails a stream with an error line midway, and a cut stream', async () => {
    upstream.fault({ kind: 'stream-error', afterChunks: 2, times: 1 });
    expect((await rejection(collect(await adapter.stream(basicRequest, callContext('llama3.2'))))).code).toBe(
      'upstream_stream_error',
    );
    upstream.fault({ kind: 'cut-stream', afterChunks: 2, times: 1 });
    const cut = await rejection(collect(await adapter.stream(basicRequest, callContext('llama3.2'))));
    expect(['upstream_stream_error', 'upstream_connection_error']).toContain(cut.code);
  });

  it('embeds a batch through /api/embed in float and base64', async () => {
    const floats = await adapter.embed(
      { model: 'x', input: ['a', 'b'], dimensions: 4 },
      callContext('all-minilm'),
    );
    expect(upstream.requests[0]!.body).toMatchObject({
      model: 'all-minilm',
      input: ['a', 'b'],
      dimensions: 4,
    });
    expect(floats.data[1]?.embedding).toEqual([0.02, 0.04, 0.06, 0.08]);
    expect(floats.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 });
    const base64 = await adapter.embed(
      { model: 'x', input: 'a', encoding_format: 'base64', dimensions: 2 },
      callContext('all-minilm'),
    );
    expect(decodeBase64Floats(base64.data[0]?.embedding as string)[1]).toBeCloseTo(0.02);
  });

  it('maps a documented /api/embed response', async () => {
    next = { json: fixtureJson(fixture('embed.json')) };
    const response = await fixtureAdapter.embed({ model: 'x', input: ['a', 'b'] }, callContext('all-minilm'));
    expect(response.data).toHaveLength(2);
    expect(response.usage.prompt_tokens).toBe(8);
  });
});
