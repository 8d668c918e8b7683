import { createMockUpstream, replyWithFixture, sseChunks, type MockUpstream } from '@switchyard/testing';
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
import { CohereAdapter } from './cohere-adapter';
import { fromCohereResponse } from './from-cohere-response';
import { CohereStreamMapper } from './from-cohere-stream';
import type { CohereChatResponse } from './cohere-wire';
import type { ChatCompletionRequest } from '../../wire/openai-chat';

const API_KEY = 'co-test-canary-0123456789abcdef';
const fixture = (name: string): URL => new URL(`./__fixtures__/${name}`, import.meta.url);
let upstream: MockUpstream;
let dispatcher: Agent;
let adapter: CohereAdapter;
let fixtureAdapter: CohereAdapter;
let next: Parameters<typeof replyWithFixture>[1] | undefined;

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        method: 'POST',
        path: /^\/fixture\//,
        handle: (exchange) =>
          replyWithFixture(exchange, next ?? { status: 500, json: { message: 'no fixture set' } }),
      },
    ],
  });
  dispatcher = new Agent();
  const kit = { dispatcher, logger: silentLogger };
  adapter = new CohereAdapter(
    { name: 'cohere', type: 'cohere', apiKey: API_KEY, baseUrl: upstream.url },
    kit,
  );
  fixtureAdapter = new CohereAdapter(
    { name: 'cohere', type: 'cohere', apiKey: API_KEY, baseUrl: `${upstream.url}/fixture` },
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

const sse = (name: string): NonNullable<typeof next> => ({
  stream: {
    contentType: 'text/event-stream',
    chunks: sseChunks(fixtureText(fixture(name))),
    errorChunk: () => '',
  },
});

describe('cohere adapter', () => {
  it('maps a documented chat response, with the bearer key and billed usage', async () => {
    next = { json: fixtureJson(fixture('chat.json')) };
    const response = await fixtureAdapter.chat(basicRequest, callContext('command-a-03-2025'));
    const sent = upstream.requests[0]!;
    expect(sent.path).toBe('/fixture/v2/chat');
    expect(sent.headers['authorization']).toBe(`Bearer ${API_KEY}`);
    expect(sent.body).toEqual({
      model: 'command-a-03-2025',
      messages: [{ role: 'user', content: 'Hello!' }],
      stream: false,
    });
    expect(response.choices[0]).toMatchObject({
      finish_reason: 'stop',
      message: { content: expect.stringMatching(/^LLMs/) as unknown },
    });
    expect(response.usage).toEqual({ prompt_tokens: 17, completion_tokens: 16, total_tokens: 33 });
  });

  it('translates system, images, tool calls, tool results and sampling names', async () => {
    await adapter.chat(
      {
        ...toolRoundTripRequest,
        top_p: 0.9,
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      },
      callContext('command-a-vision'),
    );
    const body = upstream.requests[0]!.body as Record<string, unknown>;
    expect(body).toMatchObject({
      temperature: 0.3,
      p: 0.9,
      max_tokens: 256,
      stop_sequences: ['END'],
      tool_choice: 'REQUIRED',
    });
    expect(body['messages']).toEqual([
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: (toolRoundTripRequest.messages[1] as { content: unknown }).content },
      {
        role: 'assistant',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"Boston, MA"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temperature_c":21}' },
    ]);
    expect((body['tools'] as unknown[]).length).toBe(1);
  });

  it('sends the text parts of a system, assistant or tool message as text parts, not glued together', async () => {
    const parts = (...texts: string[]) => texts.map((text) => ({ type: 'text' as const, text }));
    await adapter.chat(
      {
        ...basicRequest,
        messages: [
          { role: 'system', content: parts('You are terse.', '', 'Answer in French.') },
          { role: 'user', content: 'Hi' },
          {
            role: 'assistant',
            content: parts('Hello', 'world'),
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: parts('line one', 'line two') },
          { role: 'assistant', content: parts('', '') },
          { role: 'system', content: parts('') },
          { role: 'user', content: 'Go on' },
        ],
      },
      callContext('command-a-03-2025'),
    );
    const text = (...texts: string[]) => texts.map((t) => ({ type: 'text', text: t }));
    expect((upstream.requests[0]!.body as { messages: unknown[] }).messages).toEqual([
      { role: 'system', content: text('You are terse.', 'Answer in French.') },
      { role: 'user', content: 'Hi' },
      {
        role: 'assistant',
        content: text('Hello', 'world'),
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: text('line one', 'line two') },
      // empty parts say nothing: an assistant message of only those has no content, as before
      { role: 'assistant' },
      { role: 'system', content: '' },
      { role: 'user', content: 'Go on' },
    ]);
  });

  it("brings OpenAI's wider sampling ranges into Cohere's, which answers 400 outside them", async () => {
    const sent = async (params: Partial<ChatCompletionRequest>): Promise<Record<string, unknown>> => {
      upstream.reset();
      await adapter.chat({ ...basicRequest, ...params }, callContext('command-a'));
      return upstream.requests[0]!.body as Record<string, unknown>;
    };
    expect(await sent({ top_p: 1, frequency_penalty: 2, presence_penalty: -1 })).toMatchObject({
      p: 0.99,
      frequency_penalty: 1,
      presence_penalty: 0,
    });
    expect(await sent({ top_p: 0, frequency_penalty: 0.5, presence_penalty: 0.2 })).toMatchObject({
      p: 0.01,
      frequency_penalty: 0.5,
      presence_penalty: 0.2,
    });
    expect(await sent({})).not.toHaveProperty('p');
  });

  it("refuses a temperature below Cohere's documented range (non-negative) before sending, and sends 0 to 2 as it is", async () => {
    // the HTTP layer refuses it as OpenAI does; a request given to the engine directly reached Cohere
    for (const temperature of [-0.5, Number.NaN]) {
      expect(
        await rejection(adapter.chat({ ...basicRequest, temperature }, callContext('command-a-03-2025'))),
      ).toMatchObject({ code: 'invalid_request', param: 'temperature', beforeSending: true });
    }
    expect(upstream.requests).toHaveLength(0);
    // Cohere documents no maximum (its guide raises it "much higher" for long prompts): never clamped
    for (const temperature of [0, 1.5, 2]) {
      upstream.reset();
      await adapter.chat({ ...basicRequest, temperature }, callContext('command-a-03-2025'));
      expect(upstream.requests[0]!.body).toMatchObject({ temperature });
    }
  });

  it('refuses n > 1 with unsupported_feature instead of answering with one choice, and sends nothing', async () => {
    for (const call of [
      adapter.chat({ ...basicRequest, n: 2 }, callContext('command-a-03-2025')),
      adapter.stream({ ...basicRequest, n: 2 }, callContext('command-a-03-2025')),
    ]) {
      expect(await rejection(call)).toMatchObject({ code: 'unsupported_feature', param: 'n' });
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('gives a tool called without arguments "{}", whole and streamed, and nothing more to one with arguments', () => {
    const call = (id: string, name: string, args: string) => ({
      id,
      type: 'function',
      function: { name, arguments: args },
    });
    const body = {
      id: 'c1',
      finish_reason: 'TOOL_CALL',
      message: { role: 'assistant', tool_calls: [call('t1', 'get_time', ''), call('t2', 'f', '{"a":1}')] },
    };
    const whole = fromCohereResponse(body as CohereChatResponse, 'cohere', 'command-a-03-2025');
    expect(whole.choices[0]?.message.tool_calls?.map((c) => functionCall(c)?.function.arguments)).toEqual([
      '{}',
      '{"a":1}',
    ]);

    const mapper = new CohereStreamMapper('cohere', 'command-a-03-2025', 'c1', 0);
    const event = (data: unknown) =>
      mapper.map({ event: undefined, id: undefined, data: JSON.stringify(data) });
    const chunks = [
      ...event({ type: 'message-start', id: 'c1', delta: { message: { role: 'assistant' } } }),
      ...event({
        type: 'tool-call-start',
        index: 0,
        delta: { message: { tool_calls: call('t1', 'get_time', '') } },
      }),
      ...event({ type: 'tool-call-end', index: 0 }),
      ...event({
        type: 'tool-call-start',
        index: 1,
        delta: { message: { tool_calls: call('t2', 'f', '') } },
      }),
      ...event({
        type: 'tool-call-delta',
        index: 1,
        delta: { message: { tool_calls: { function: { arguments: '{"a":1}' } } } },
      }),
      ...event({ type: 'tool-call-end', index: 1 }),
      ...event({ type: 'message-end', delta: { finish_reason: 'TOOL_CALL' } }),
    ];
    const args = new Map<number, string>();
    for (const c of chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []))
      args.set(c.index, (args.get(c.index) ?? '') + (c.function?.arguments ?? ''));
    expect([...args.values()]).toEqual(['{}', '{"a":1}']);
  });

  it.each(['ERROR', 'TIMEOUT'])(
    'fails an answer Cohere ended with %s, whole or streamed, as a retryable upstream failure',
    (reason) => {
      const body = {
        id: 'c1',
        finish_reason: reason,
        message: { role: 'assistant', content: [{ type: 'text', text: 'Half an answ' }] },
      };
      expect(() => fromCohereResponse(body as CohereChatResponse, 'cohere', 'command-a-03-2025')).toThrow(
        expect.objectContaining({ code: 'upstream_error', retryable: true }) as Error,
      );
      const mapper = new CohereStreamMapper('cohere', 'command-a-03-2025', 'c1', 0);
      const event = (data: unknown) =>
        mapper.map({ event: undefined, id: undefined, data: JSON.stringify(data) });
      event({ type: 'message-start', id: 'c1', delta: { message: { role: 'assistant' } } });
      expect(() => event({ type: 'message-end', delta: { finish_reason: reason } })).toThrow(
        expect.objectContaining({ code: 'upstream_stream_error' }) as Error,
      );
    },
  );

  it('maps a documented tool call response', async () => {
    next = { json: fixtureJson(fixture('tool-call.json')) };
    const response = await fixtureAdapter.chat(toolRoundTripRequest, callContext('command-a-03-2025'));
    expect(response.choices[0]?.finish_reason).toBe('tool_calls');
    expect(response.choices[0]?.message.tool_calls?.[0]).toEqual({
      id: 'get_weather_1byjy32y4hvq',
      type: 'function',
      function: { name: 'get_weather', arguments: '{"location":"Toronto"}' },
    });
  });

  it('replays a documented text stream with usage from message-end', async () => {
    next = sse('stream.chunks.txt');
    const chunks = await collect(await fixtureAdapter.stream(basicRequest, callContext('command-a-03-2025')));
    expect(streamedText(chunks)).toBe('Hello world!');
    expect(chunks[0]?.id).toBe('29f14a5a-11de-4cae-9800-25e4747408ea');
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });
  });

  it('replays a documented tool stream: tool_plan hidden, arguments streamed in pieces', async () => {
    next = sse('tool-stream.chunks.txt');
    const chunks = await collect(
      await fixtureAdapter.stream(toolRoundTripRequest, callContext('command-a-03-2025')),
    );
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({
      index: 0,
      id: 'get_weather_nsz5zm3w56q3',
      function: { name: 'get_weather' },
    });
    expect(JSON.parse(calls.map((c) => c.function?.arguments ?? '').join(''))).toEqual({
      location: 'Toronto',
    });
    expect(streamedText(chunks)).toBe('');
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
  });

  it.each([
    ['unauthorized.json', 401, 'upstream_auth_error'],
    ['unauthorized.json', 403, 'upstream_auth_error'],
    ['unauthorized.json', 404, 'upstream_not_found'],
    ['unauthorized.json', 500, 'upstream_error'],
    ['unauthorized.json', 503, 'upstream_unavailable'],
  ] as const)('maps %s with HTTP %i to %s', async (file, status, code) => {
    upstream.fault({ kind: 'status', status, body: fixtureJson(fixture(file)) });
    const error = await rejection(adapter.chat(basicRequest, callContext('command-a-03-2025')));
    expect(error.code).toBe(code);
    expect(JSON.stringify(error.toJSON())).not.toContain(API_KEY);
  });

  it('maps a documented 429 with Retry-After, for a whole answer and a stream', async () => {
    upstream.fault({
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '60' },
      body: fixtureJson(fixture('rate-limited.json')),
    });
    const error = await rejection(adapter.chat(basicRequest, callContext('command-a-03-2025')));
    expect(error).toMatchObject({ code: 'upstream_rate_limited', retryable: true, retryAfterMs: 60_000 });
    const streamed = await rejection(adapter.stream(basicRequest, callContext('command-a-03-2025')));
    expect(streamed.toJSON()).toEqual(error.toJSON());
    expect(streamed.retryAfterMs).toBe(60_000);
  });

  it('fails a stream that errors midway, and a cut stream', async () => {
    upstream.fault({ kind: 'stream-error', afterChunks: 3, times: 1 });
    expect(
      (await rejection(collect(await adapter.stream(basicRequest, callContext('command-a-03-2025'))))).code,
    ).toBe('upstream_stream_error');
    upstream.fault({ kind: 'cut-stream', afterChunks: 3, times: 1 });
    const cut = await rejection(
      collect(await adapter.stream(basicRequest, callContext('command-a-03-2025'))),
    );
    expect(['upstream_stream_error', 'upstream_connection_error']).toContain(cut.code);
  });

  it('embeds in batches of 96 with input_type, float or base64', async () => {
    const texts = Array.from({ length: 100 }, (_v, i) => `text ${i}`);
    const response = await adapter.embed(
      { model: 'x', input: texts, dimensions: 4, encoding_format: 'base64' },
      callContext('embed-v4.0'),
    );
    expect(upstream.requests).toHaveLength(2);
    expect(upstream.requests[0]!.body).toMatchObject({
      model: 'embed-v4.0',
      input_type: 'search_document',
      embedding_types: ['float'],
      output_dimension: 4,
    });
    expect((upstream.requests[0]!.body as { texts: string[] }).texts).toHaveLength(96);
    expect(response.data).toHaveLength(100);
    expect(response.data[99]?.index).toBe(99);
    expect(decodeBase64Floats(response.data[0]?.embedding as string)).toHaveLength(4);
    expect(response.usage.prompt_tokens).toBe(100);
  });

  it('maps a documented embed response', async () => {
    next = { json: fixtureJson(fixture('embed.json')) };
    const response = await fixtureAdapter.embed(
      { model: 'x', input: ['hello', 'goodbye'] },
      callContext('embed-v4.0'),
    );
    expect(response.data[1]?.embedding).toEqual([-0.0031719208, 0.03970337, 0.020812988, -0.04324341]);
    expect(response.usage.prompt_tokens).toBe(2);
  });
});
