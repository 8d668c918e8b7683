import {
  createMockUpstream,
  GEMINI_GROUNDING_EXAMPLE,
  replyWithFixture,
  sseChunks,
  type MockUpstream,
} from '@switchyard/testing';
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
import { functionCall, functionTool } from '../../../test/support/function-tool-forms';
import { silentLogger } from '../../options/logger';
import { usageSoFarOf } from '../../stream/stream-usage-so-far';
import { mapGeminiUsage } from './from-gemini-response';
import { GeminiAdapter } from './gemini-adapter';
import { GeminiStreamMapper } from './from-gemini-stream';
import type { GeminiUsageMetadata } from './gemini-wire';

const API_KEY = 'AIzaSyTestCanary0123456789abcdefghijk';
const fixture = (name: string): URL => new URL(`./__fixtures__/${name}`, import.meta.url);
let upstream: MockUpstream;
let dispatcher: Agent;
let adapter: GeminiAdapter;
/** What the fixture route answers next (undefined: the built-in Gemini mock route answers). */
let next: Parameters<typeof replyWithFixture>[1] | undefined;

/** The fixture route's next answer: `body` as the one event of a Gemini stream. */
const oneEventStream = (body: unknown): Parameters<typeof replyWithFixture>[1] => ({
  stream: {
    contentType: 'text/event-stream',
    chunks: sseChunks(`data: ${JSON.stringify(body)}\r\n\r\n`),
    errorChunk: () => '',
  },
});

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        method: 'POST',
        path: /^\/fixture\//,
        handle: (exchange) =>
          replyWithFixture(exchange, next ?? { status: 500, json: { error: { message: 'no fixture set' } } }),
      },
      {
        // Google refuses a batchEmbedContents of more than 100 requests; each vector is its text's number
        method: 'POST',
        path: /^\/batch-cap\//,
        handle: (exchange) => {
          const requests =
            (exchange.body as { requests?: Array<{ content: { parts: Array<{ text: string }> } }> })
              .requests ?? [];
          return replyWithFixture(
            exchange,
            requests.length > 100
              ? {
                  status: 400,
                  json: {
                    error: {
                      code: 400,
                      message:
                        '* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch',
                      status: 'INVALID_ARGUMENT',
                    },
                  },
                }
              : {
                  json: {
                    embeddings: requests.map((request) => ({
                      values: [Number(request.content.parts[0]?.text)],
                    })),
                  },
                },
          );
        },
      },
      {
        // Gemini refuses a toolConfig's functionCallingConfig in a request that declares no function
        method: 'POST',
        path: /^\/function-config\//,
        handle: (exchange) => {
          const body = exchange.body as {
            tools?: Array<{ functionDeclarations?: unknown[] }>;
            toolConfig?: { functionCallingConfig?: unknown };
          };
          const declares = (body.tools ?? []).some((tool) => (tool.functionDeclarations ?? []).length > 0);
          return replyWithFixture(
            exchange,
            body.toolConfig?.functionCallingConfig !== undefined && !declares
              ? {
                  status: 400,
                  json: {
                    error: {
                      code: 400,
                      message: 'Function calling config is set without function_declarations.',
                      status: 'INVALID_ARGUMENT',
                    },
                  },
                }
              : { json: fixtureJson(fixture('generate-content.json')) },
          );
        },
      },
    ],
  });
  dispatcher = new Agent();
  adapter = new GeminiAdapter(
    { name: 'gemini', type: 'gemini', apiKey: API_KEY, baseUrl: `${upstream.url}/v1beta` },
    { dispatcher, logger: silentLogger },
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

const fixtureAdapter = (): GeminiAdapter =>
  new GeminiAdapter(
    { name: 'gemini', type: 'gemini', apiKey: API_KEY, baseUrl: `${upstream.url}/fixture` },
    { dispatcher, logger: silentLogger },
  );

describe('gemini adapter', () => {
  it('sends the key in x-goog-api-key, never in the URL, and maps a documented text response', async () => {
    next = { json: fixtureJson(fixture('generate-content.json')) };
    const response = await fixtureAdapter().chat(basicRequest, callContext('gemini-2.5-flash'));
    const sent = upstream.requests[0]!;
    expect(sent.path).toBe('/fixture/models/gemini-2.5-flash:generateContent');
    expect(sent.path).not.toContain(API_KEY);
    expect(sent.headers['x-goog-api-key']).toBe(API_KEY);
    expect(sent.body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Hello!' }] }] });
    expect(response.choices[0]).toMatchObject({ finish_reason: 'stop', message: { role: 'assistant' } });
    expect(response.choices[0]?.message.content).toMatch(/^Machine learning/);
    expect(response.usage).toEqual({
      prompt_tokens: 9,
      completion_tokens: 24 + 1018,
      total_tokens: 1051,
      prompt_tokens_details: { cached_tokens: 4, image_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 1018 },
    });
  });

  it('reports the image tokens of an image model and the audio tokens of a prompt apart (billed at their own rates)', async () => {
    next = { json: fixtureJson(fixture('generate-image.json')) };
    const response = await fixtureAdapter().chat(basicRequest, callContext('gemini-2.5-flash-image'));
    expect(response.usage).toEqual({
      prompt_tokens: 277,
      completion_tokens: 1304,
      total_tokens: 1581,
      prompt_tokens_details: { image_tokens: 258 },
      completion_tokens_details: { image_tokens: 1290 },
    });
    const audio = {
      promptTokenCount: 806,
      candidatesTokenCount: 10,
      promptTokensDetails: [
        { modality: 'TEXT', tokenCount: 6 },
        { modality: 'AUDIO', tokenCount: 800 },
      ],
      candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: 10 }],
    };
    expect(mapGeminiUsage(audio)).toEqual({
      prompt_tokens: 806,
      completion_tokens: 10,
      total_tokens: 816,
      prompt_tokens_details: { audio_tokens: 800, image_tokens: 0 },
      completion_tokens_details: { image_tokens: 0 },
    });
  });

  it('reports the cached share of the image and audio prompt tokens, which the cache rate prices', () => {
    const cached = {
      promptTokenCount: 1000,
      cachedContentTokenCount: 900,
      candidatesTokenCount: 10,
      promptTokensDetails: [
        { modality: 'TEXT', tokenCount: 200 },
        { modality: 'IMAGE', tokenCount: 800 },
      ],
      cacheTokensDetails: [
        { modality: 'TEXT', tokenCount: 100 },
        { modality: 'IMAGE', tokenCount: 800 },
      ],
    };
    expect(mapGeminiUsage(cached).prompt_tokens_details).toEqual({
      cached_tokens: 900,
      image_tokens: 800,
      cached_tokens_details: { audio_tokens: 0, image_tokens: 800 },
    });
    // a text-only prompt says so with zero image tokens, as the proxy meter does
    expect(
      mapGeminiUsage({ promptTokenCount: 6, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 6 }] })
        .prompt_tokens_details,
    ).toEqual({ image_tokens: 0 });
  });

  it('reads counts a host sends as numeric strings, as the universal proxy meter always did', () => {
    // proto3 JSON encoders may write integers as strings; summed as strings they concatenated
    const stringly = JSON.parse(
      '{"promptTokenCount":"100","toolUsePromptTokenCount":"5","candidatesTokenCount":"20","thoughtsTokenCount":"7","promptTokensDetails":[{"modality":"IMAGE","tokenCount":"60"},{"modality":"TEXT","tokenCount":"40"}]}',
    ) as GeminiUsageMetadata;
    expect(mapGeminiUsage(stringly)).toEqual({
      prompt_tokens: 105,
      completion_tokens: 27,
      total_tokens: 132,
      prompt_tokens_details: { image_tokens: 60 },
      completion_tokens_details: { reasoning_tokens: 7 },
    });
  });

  it('translates system, images, tool calls and tool results, and generation settings', async () => {
    await adapter.chat(toolRoundTripRequest, callContext('gemini-2.5-flash'));
    const body = upstream.requests[0]!.body as Record<string, unknown>;
    expect(body['systemInstruction']).toEqual({ parts: [{ text: 'You are a helpful assistant.' }] });
    expect(body['contents']).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'What is the weather where this photo was taken?' },
          { inlineData: { mimeType: 'image/png', data: expect.stringMatching(/^iVBOR/) as unknown } },
        ],
      },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { location: 'Boston, MA' } } }] },
      {
        role: 'user',
        parts: [{ functionResponse: { name: 'get_weather', response: { temperature_c: 21 } } }],
      },
    ]);
    expect(body['tools']).toEqual([
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'Current weather',
            parametersJsonSchema: functionTool(toolRoundTripRequest.tools?.[0])?.function.parameters,
          },
        ],
      },
    ]);
    expect(body['generationConfig']).toEqual({
      temperature: 0.3,
      maxOutputTokens: 256,
      stopSequences: ['END'],
    });
  });

  it('sends image URLs as fileData', async () => {
    await adapter.chat(
      {
        ...basicRequest,
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.webp' } }],
          },
        ],
      },
      callContext('gemini-2.5-flash'),
    );
    const body = upstream.requests[0]!.body as { contents: Array<{ parts: unknown[] }> };
    expect(body.contents[0]?.parts[0]).toEqual({
      fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.webp' },
    });
  });

  it('maps a documented functionCall response to tool_calls, and tool_choice to toolConfig', async () => {
    next = { json: fixtureJson(fixture('function-call.json')) };
    const response = await fixtureAdapter().chat(
      { ...toolRoundTripRequest, tool_choice: { type: 'function', function: { name: 'schedule_meeting' } } },
      callContext('gemini-2.5-flash'),
    );
    expect((upstream.requests[0]!.body as Record<string, unknown>)['toolConfig']).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['schedule_meeting'] },
    });
    const choice = response.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(functionCall(choice.message.tool_calls?.[0])?.function.name).toBe('schedule_meeting');
    expect(JSON.parse(functionCall(choice.message.tool_calls?.[0])?.function.arguments ?? '')).toMatchObject({
      attendees: ['Bob', 'Alice'],
    });
  });

  it('sends no toolConfig without function declarations (Gemini refuses one with 400): no tools, an empty list, or Google Search alone', async () => {
    const strict = new GeminiAdapter(
      { name: 'gemini', type: 'gemini', apiKey: API_KEY, baseUrl: `${upstream.url}/function-config` },
      { dispatcher, logger: silentLogger },
    );
    const requests = [
      { ...basicRequest, tool_choice: 'auto' as const },
      { ...basicRequest, tools: [], tool_choice: 'none' as const },
      { ...basicRequest, web_search_options: {}, tool_choice: 'auto' as const },
    ];
    for (const request of requests) {
      const response = await strict.chat(request, callContext('gemini-2.5-flash'));
      expect(response.choices[0]?.message.content).toMatch(/^Machine learning/);
      expect(upstream.requests.at(-1)?.body).not.toHaveProperty('toolConfig');
    }
    expect(upstream.requests.at(-1)?.body).toMatchObject({ tools: [{ googleSearch: {} }] });
  });

  it('carries a Gemini 3 thought signature from a functionCall part through the tool-call id and back on the next request', async () => {
    next = { json: fixtureJson(fixture('function-call-thought-signature.json')) };
    const first = await fixtureAdapter().chat(
      { ...toolRoundTripRequest, messages: [{ role: 'user', content: 'Weather in Paris and London?' }] },
      callContext('gemini-3-pro-preview'),
    );
    const calls = first.choices[0]?.message.tool_calls ?? [];
    expect(calls.map((call) => functionCall(call)?.function.name)).toEqual(['get_weather', 'get_weather']);
    // ids stay within the characters every provider's tool ids allow
    for (const call of calls) expect(call.id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(calls[0]?.id).not.toBe(calls[1]?.id);

    next = { json: fixtureJson(fixture('generate-content.json')) };
    await fixtureAdapter().chat(
      {
        ...toolRoundTripRequest,
        messages: [
          { role: 'user', content: 'Weather in Paris and London?' },
          { role: 'assistant', content: null, tool_calls: calls },
          { role: 'tool', tool_call_id: calls[0]!.id, content: '{"temperature_c":18}' },
          { role: 'tool', tool_call_id: calls[1]!.id, content: '{"temperature_c":15}' },
        ],
      },
      callContext('gemini-3-pro-preview'),
    );
    const contents = (upstream.requests[1]!.body as { contents: unknown[] }).contents;
    // parallel calls: the signature rides on the first functionCall part only, as Gemini sent it
    expect(contents[1]).toEqual({
      role: 'model',
      parts: [
        {
          functionCall: { name: 'get_weather', args: { location: 'Paris' } },
          thoughtSignature: 'CiQBDH5fv/4/hKH3+++fAPs=',
        },
        { functionCall: { name: 'get_weather', args: { location: 'London' } } },
      ],
    });
  });

  it('carries a streamed thought signature through the tool-call id and back on the next request', async () => {
    next = {
      stream: {
        contentType: 'text/event-stream',
        chunks: sseChunks(fixtureText(fixture('stream-function-call-thought-signature.chunks.txt'))),
        errorChunk: () => '',
      },
    };
    const chunks = await collect(
      await fixtureAdapter().stream(
        { ...basicRequest, messages: [{ role: 'user', content: 'Check flight AA100' }] },
        callContext('gemini-3-pro-preview'),
      ),
    );
    const call = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])[0];
    expect(call?.id).toMatch(/^[A-Za-z0-9_-]+$/);

    next = { json: fixtureJson(fixture('generate-content.json')) };
    await fixtureAdapter().chat(
      {
        ...basicRequest,
        messages: [
          { role: 'user', content: 'Check flight AA100' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: call!.id!,
                type: 'function',
                function: { name: 'check_flight', arguments: '{"flight":"AA100"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: call!.id!, content: '{"status":"delayed"}' },
        ],
      },
      callContext('gemini-3-pro-preview'),
    );
    const contents = (upstream.requests[1]!.body as { contents: unknown[] }).contents;
    expect(contents[1]).toEqual({
      role: 'model',
      parts: [
        {
          functionCall: { name: 'check_flight', args: { flight: 'AA100' } },
          thoughtSignature: 'EqQBCqEB0e2Kb7++X8H/4w==',
        },
      ],
    });
  });

  it("sends no thought signature for a client's own tool-call id that merely holds the marker", async () => {
    next = { json: fixtureJson(fixture('generate-content.json')) };
    await fixtureAdapter().chat(
      {
        ...basicRequest,
        messages: [
          { role: 'user', content: 'Check flight AA100' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_x__ts_abc',
                type: 'function',
                function: { name: 'check_flight', arguments: '{"flight":"AA100"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_x__ts_abc', content: '{"status":"delayed"}' },
        ],
      },
      callContext('gemini-3-pro-preview'),
    );
    const contents = (upstream.requests[0]!.body as { contents: unknown[] }).contents;
    expect(contents[1]).toEqual({
      role: 'model',
      parts: [{ functionCall: { name: 'check_flight', args: { flight: 'AA100' } } }],
    });
  });

  it('maps a blocked prompt to a content_filter error and a SAFETY finish to content_filter', async () => {
    next = { json: fixtureJson(fixture('prompt-blocked.json')) };
    expect((await rejection(fixtureAdapter().chat(basicRequest, callContext('gemini-2.5-flash')))).code).toBe(
      'content_filter',
    );
    next = { json: fixtureJson(fixture('finish-safety.json')) };
    const response = await fixtureAdapter().chat(basicRequest, callContext('gemini-2.5-flash'));
    expect(response.choices[0]?.finish_reason).toBe('content_filter');
  });

  it.each(['IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION', 'MODEL_ARMOR'])(
    'maps the filter finish %s to content_filter, whole and streamed (it was a plain stop)',
    async (reason) => {
      // an image model's answer whose image was withheld: the text before it, then the filter's reason
      const filtered = {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'Here is your image:' }] },
            finishReason: reason,
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 5, totalTokenCount: 17 },
        modelVersion: 'gemini-2.5-flash-image',
      };
      next = { json: filtered };
      const whole = await fixtureAdapter().chat(basicRequest, callContext('gemini-2.5-flash-image'));
      expect(whole.choices[0]?.finish_reason).toBe('content_filter');
      next = oneEventStream(filtered);
      const chunks = await collect(
        await fixtureAdapter().stream(basicRequest, callContext('gemini-2.5-flash-image')),
      );
      expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason).filter(Boolean)).toEqual([
        'content_filter',
      ]);
    },
  );

  it.each(['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'MALFORMED_RESPONSE'])(
    'fails an answer that ended with %s (nothing usable delivered), whole or streamed, as retryable',
    async (reason) => {
      // the shape Gemini sends: the candidate's finish reason and no call, the prompt billed
      const ended = {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'Let me look that up.' }] },
            finishReason: reason,
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 2595, totalTokenCount: 2595 },
        modelVersion: 'gemini-2.5-flash',
      };
      next = { json: ended };
      const whole = await rejection(fixtureAdapter().chat(basicRequest, callContext('gemini-2.5-flash')));
      expect(whole).toMatchObject({ code: 'upstream_error', retryable: true, provider: 'gemini' });
      expect(whole.message).toContain(reason);
      next = oneEventStream(ended);
      const streamed = await rejection(
        (async () => collect(await fixtureAdapter().stream(basicRequest, callContext('gemini-2.5-flash'))))(),
      );
      expect(streamed).toMatchObject({ code: 'upstream_stream_error', retryable: true });
      // a plain stop after a call is still tool_calls
      next = {
        json: {
          ...ended,
          candidates: [
            {
              content: { role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] },
              finishReason: 'STOP',
              index: 0,
            },
          ],
        },
      };
      const called = await fixtureAdapter().chat(basicRequest, callContext('gemini-2.5-flash'));
      expect(called.choices[0]?.finish_reason).toBe('tool_calls');
    },
  );

  it("fails an answer that ended with MISSING_THOUGHT_SIGNATURE as the request's fault, whole or streamed: not retried", async () => {
    // Gemini 3 ends the answer so when an earlier function call came back without its signature
    const ended = {
      candidates: [
        { content: { role: 'model', parts: [] }, finishReason: 'MISSING_THOUGHT_SIGNATURE', index: 0 },
      ],
      usageMetadata: { promptTokenCount: 40, totalTokenCount: 40 },
      modelVersion: 'gemini-3-pro-preview',
    };
    next = { json: ended };
    const whole = await rejection(fixtureAdapter().chat(basicRequest, callContext('gemini-3-pro-preview')));
    expect(whole).toMatchObject({ code: 'upstream_bad_request', retryable: false, provider: 'gemini' });
    expect(whole.message).toContain('MISSING_THOUGHT_SIGNATURE');
    next = oneEventStream(ended);
    const streamed = await rejection(
      (async () =>
        collect(await fixtureAdapter().stream(basicRequest, callContext('gemini-3-pro-preview'))))(),
    );
    expect(streamed).toMatchObject({ code: 'upstream_bad_request', retryable: false });
  });

  it('asks for log probabilities and returns them as OpenAI does, whole and streamed (they were dropped)', async () => {
    const chosen = [
      { token: 'Hello', tokenId: 9259, logProbability: -0.05 },
      // proto3 JSON leaves out a zero
      { token: ' wörld', tokenId: 1104 },
    ];
    const answer = {
      candidates: [
        {
          content: { role: 'model', parts: [{ text: 'Hello wörld' }] },
          finishReason: 'STOP',
          index: 0,
          avgLogprobs: -0.025,
          logprobsResult: {
            topCandidates: [
              { candidates: [chosen[0], { token: 'Hi', tokenId: 2151, logProbability: -3.1 }] },
              { candidates: [{ token: ' wörld', tokenId: 1104 }] },
            ],
            chosenCandidates: chosen,
          },
        },
      ],
      usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2, totalTokenCount: 6 },
      modelVersion: 'gemini-2.5-flash',
    };
    const expected = {
      content: [
        {
          token: 'Hello',
          logprob: -0.05,
          bytes: [72, 101, 108, 108, 111],
          top_logprobs: [
            { token: 'Hello', logprob: -0.05, bytes: [72, 101, 108, 108, 111] },
            { token: 'Hi', logprob: -3.1, bytes: [72, 105] },
          ],
        },
        {
          token: ' wörld',
          logprob: 0,
          bytes: [32, 119, 195, 182, 114, 108, 100],
          top_logprobs: [{ token: ' wörld', logprob: 0, bytes: [32, 119, 195, 182, 114, 108, 100] }],
        },
      ],
      refusal: null,
    };
    const asked = { ...basicRequest, logprobs: true, top_logprobs: 2 };
    next = { json: answer };
    const whole = await fixtureAdapter().chat(asked, callContext('gemini-2.5-flash'));
    expect((upstream.requests.at(-1)!.body as { generationConfig?: unknown }).generationConfig).toMatchObject(
      {
        responseLogprobs: true,
        logprobs: 2,
      },
    );
    expect(whole.choices[0]?.logprobs).toEqual(expected);
    next = oneEventStream(answer);
    const chunks = await collect(await fixtureAdapter().stream(asked, callContext('gemini-2.5-flash')));
    expect(chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.logprobs).filter(Boolean))).toEqual(
      [expected],
    );
    // not asked: null, as OpenAI answers
    next = { json: { ...answer, candidates: [{ ...answer.candidates[0], logprobsResult: undefined }] } };
    const plain = await fixtureAdapter().chat(basicRequest, callContext('gemini-2.5-flash'));
    expect(plain.choices[0]?.logprobs).toBeNull();
  });

  it('streams log probabilities event by event and per candidate, with as many alternatives as asked', async () => {
    const step = (token: string | undefined, logProbability: number, ...alternatives: number[]) => ({
      chosen: { ...(token === undefined ? {} : { token }), logProbability },
      top: { candidates: alternatives.map((value, i) => ({ token: `alt${i}`, logProbability: value })) },
    });
    const event = (index: number, text: string, steps: Array<ReturnType<typeof step>>, finish?: string) => ({
      candidates: [
        {
          content: { role: 'model', parts: [{ text }] },
          index,
          ...(finish === undefined ? {} : { finishReason: finish }),
          logprobsResult: {
            chosenCandidates: steps.map((s) => s.chosen),
            topCandidates: steps.map((s) => s.top),
          },
        },
      ],
    });
    const events = [
      event(0, 'Hi', [step('Hi', -0.1, -0.1, -2, -3)]),
      event(1, 'Yo', [step('Yo', -0.3, -0.3, -1, -4)]),
      // an event with no token steps sends no logprobs; proto3 leaves out an empty token
      event(0, '', []),
      { candidates: [{ content: { role: 'model', parts: [{ text: '!' }] }, index: 0 }] },
      event(0, '', [step(undefined, -0.5, -0.5)], 'STOP'),
      event(1, '', [], 'STOP'),
    ];
    next = {
      stream: {
        contentType: 'text/event-stream',
        chunks: sseChunks(events.map((body) => `data: ${JSON.stringify(body)}\r\n\r\n`).join('')),
        errorChunk: () => '',
      },
    };
    const chunks = await collect(
      await fixtureAdapter().stream(
        { ...basicRequest, n: 2, logprobs: true, top_logprobs: 2 },
        callContext('gemini-2.5-flash'),
      ),
    );
    const logged = chunks.flatMap((chunk) =>
      chunk.choices.flatMap((choice) =>
        choice.logprobs === undefined
          ? []
          : [
              [
                choice.index,
                (choice.logprobs as { content: Array<{ token: string; top_logprobs: unknown[] }> }).content,
              ],
            ],
      ),
    );
    expect(logged).toEqual([
      [
        0,
        [
          {
            token: 'Hi',
            logprob: -0.1,
            bytes: [72, 105],
            top_logprobs: [
              { token: 'alt0', logprob: -0.1, bytes: [97, 108, 116, 48] },
              { token: 'alt1', logprob: -2, bytes: [97, 108, 116, 49] },
            ],
          },
        ],
      ],
      [
        1,
        [
          {
            token: 'Yo',
            logprob: -0.3,
            bytes: [89, 111],
            top_logprobs: [
              { token: 'alt0', logprob: -0.3, bytes: [97, 108, 116, 48] },
              { token: 'alt1', logprob: -1, bytes: [97, 108, 116, 49] },
            ],
          },
        ],
      ],
      [
        0,
        [
          {
            token: '',
            logprob: -0.5,
            bytes: [],
            top_logprobs: [{ token: 'alt0', logprob: -0.5, bytes: [97, 108, 116, 48] }],
          },
        ],
      ],
    ]);
    // logprobs alone: each token without alternatives, as OpenAI answers
    next = {
      json: { ...event(0, 'Hi', [step('Hi', -0.1, -0.1, -2)], 'STOP'), modelVersion: 'gemini-2.5-flash' },
    };
    const whole = await fixtureAdapter().chat(
      { ...basicRequest, logprobs: true },
      callContext('gemini-2.5-flash'),
    );
    expect(whole.choices[0]?.logprobs).toEqual({
      content: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [] }],
      refusal: null,
    });
    expect((upstream.requests.at(-1)!.body as { generationConfig?: unknown }).generationConfig).toEqual({
      responseLogprobs: true,
    });
  });

  it('replays a documented stream: text in order, finish, then cumulative usage once', async () => {
    next = {
      stream: {
        contentType: 'text/event-stream',
        chunks: sseChunks(fixtureText(fixture('stream.chunks.txt'))),
        errorChunk: () => '',
      },
    };
    const chunks = await collect(
      await fixtureAdapter().stream(basicRequest, callContext('gemini-2.5-flash')),
    );
    expect(upstream.requests[0]!.path).toBe('/fixture/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(streamedText(chunks)).toBe(
      'The sky looks blue because air molecules scatter short blue light more than red light.',
    );
    expect(chunks.filter((c) => c.choices[0]?.finish_reason === 'stop')).toHaveLength(1);
    const usage = chunks.filter((c) => c.usage !== undefined && c.usage !== null);
    expect(usage).toHaveLength(1);
    expect(usage[0]?.usage).toEqual({
      prompt_tokens: 11,
      completion_tokens: 34,
      total_tokens: 45,
      prompt_tokens_details: { cached_tokens: 3 },
      completion_tokens_details: { reasoning_tokens: 18 },
    });
  });

  // Grounding with Google Search: the grounding response documented at
  // https://ai.google.dev/gemini-api/docs/google-search (its candidate and groundingMetadata as
  // they are), with the finish reason, usage and model a real answer carries
  it('reports the Google searches of a grounded answer as usage.web_searches, billed apart from the tokens', async () => {
    next = { json: fixtureJson(fixture('generate-grounded.json')) };
    const response = await fixtureAdapter().chat(basicRequest, callContext('gemini-2.5-flash'));
    expect(response.choices[0]?.message.content).toMatch(/^Spain won Euro 2024/);
    expect(response.usage).toEqual({
      prompt_tokens: 7 + 84,
      completion_tokens: 29,
      total_tokens: 120,
      prompt_tokens_details: { image_tokens: 0 },
      web_searches: 2,
    });
  });

  it('reports the Google searches of a grounded stream once, in its usage chunk', async () => {
    next = {
      stream: {
        contentType: 'text/event-stream',
        chunks: sseChunks(fixtureText(fixture('stream-grounded.chunks.txt'))),
        errorChunk: () => '',
      },
    };
    const chunks = await collect(
      await fixtureAdapter().stream(basicRequest, callContext('gemini-3-flash-preview')),
    );
    expect(streamedText(chunks)).toBe(
      "Spain won Euro 2024, defeating England 2-1 in the final. This victory marks Spain's record fourth European Championship title.",
    );
    const usage = chunks.filter((c) => c.usage !== undefined && c.usage !== null);
    expect(usage).toHaveLength(1);
    expect(usage[0]?.usage).toEqual({
      prompt_tokens: 91,
      completion_tokens: 29,
      total_tokens: 120,
      prompt_tokens_details: { image_tokens: 0 },
      web_searches: 2,
    });
  });

  // web_search_options -> the googleSearch tool, answered by the mock upstream as Google documents
  // a grounded answer (GEMINI_GROUNDING_EXAMPLE: two sentences, two web sources)
  const searched = {
    ...basicRequest,
    messages: [{ role: 'user' as const, content: 'Who won the euro 2024?' }],
    web_search_options: {},
  };
  const groundedCitations = [
    {
      type: 'url_citation',
      url_citation: {
        url: 'https://vertexaisearch.cloud.google.com.....',
        title: 'aljazeera.com',
        start_index: 0,
        end_index: 56,
      },
    },
    {
      type: 'url_citation',
      url_citation: {
        url: 'https://vertexaisearch.cloud.google.com.....',
        title: 'aljazeera.com',
        start_index: 57,
        end_index: 126,
      },
    },
    {
      type: 'url_citation',
      url_citation: {
        url: 'https://vertexaisearch.cloud.google.com.....',
        title: 'uefa.com',
        start_index: 57,
        end_index: 126,
      },
    },
  ];

  it('asks Gemini to ground with Google Search for web_search_options and returns its sources as url_citation annotations', async () => {
    const response = await adapter.chat(searched, callContext('gemini-2.5-flash'));
    expect((upstream.requests[0]!.body as { tools?: unknown }).tools).toEqual([{ googleSearch: {} }]);
    const message = response.choices[0]!.message;
    expect(message.content).toBe(GEMINI_GROUNDING_EXAMPLE.text);
    expect(message.annotations).toEqual(groundedCitations);
    expect(message.content?.slice(57, 126)).toBe(
      "This victory marks Spain's record fourth European Championship title.",
    );
    expect(response.usage?.web_searches).toBe(2);
    // an answer without grounding has no annotations
    const plain = await adapter.chat(basicRequest, callContext('gemini-2.5-flash'));
    expect((upstream.requests[1]!.body as { tools?: unknown }).tools).toBeUndefined();
    expect(plain.choices[0]!.message).not.toHaveProperty('annotations');
  });

  it('streams the sources of a grounded answer once, as delta.annotations indexing the whole streamed content', async () => {
    const chunks = await collect(
      await adapter.stream({ ...searched, stream: true }, callContext('gemini-3-flash-preview')),
    );
    expect((upstream.requests[0]!.body as { tools?: unknown }).tools).toEqual([{ googleSearch: {} }]);
    expect(streamedText(chunks)).toBe(GEMINI_GROUNDING_EXAMPLE.text);
    expect(chunks.flatMap((chunk) => chunk.choices[0]?.delta.annotations ?? [])).toEqual(groundedCitations);
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.annotations !== undefined)).toHaveLength(1);
    expect(
      chunks.find((chunk) => chunk.usage !== undefined && chunk.usage !== null)?.usage?.web_searches,
    ).toBe(2);
  });

  it("places the citations of a grounded answer in non-ASCII text: Google's byte offsets as string indices", async () => {
    next = { json: fixtureJson(fixture('generate-grounded-multibyte.json')) };
    const response = await fixtureAdapter().chat(searched, callContext('gemini-2.5-flash'));
    const { content, annotations } = response.choices[0]!.message;
    const cited = (annotations ?? []).map(({ url_citation: { title, start_index, end_index } }) => [
      title,
      content?.slice(start_index, end_index),
    ]);
    expect(cited).toEqual([
      ['uefa.com', 'España ganó la Eurocopa 2024: venció 2-1 a Inglaterra en la final de Berlín.'],
      ['uefa.com', 'Es su cuarto título europeo, un récord 🏆.'],
      ['marca.com', 'Es su cuarto título europeo, un récord 🏆.'],
      ['marca.com', 'España ganó la Eurocopa 2024'],
    ]);
  });

  it('keeps the searches a stream reported in the usage of a stream cut before its end', () => {
    const mapper = new GeminiStreamMapper('gemini', 'gemini-3-flash-preview', 'id', 0);
    const events = fixtureText(fixture('stream-grounded.chunks.txt'))
      .split('\n\n')
      .filter((block) => block.startsWith('data: '))
      .map((block) => ({ event: undefined, id: undefined, data: block.slice('data: '.length) }));
    mapper.map(events[0]!);
    expect(mapper.usageSoFar()).not.toHaveProperty('web_searches');
    mapper.map(events[1]!);
    expect(mapper.usageSoFar()?.web_searches).toBe(2);
  });

  it('streams every candidate of n > 1 (candidateCount) as the choice of its index, each with its role and finish', async () => {
    next = {
      stream: {
        contentType: 'text/event-stream',
        chunks: sseChunks(fixtureText(fixture('stream-candidate-count.chunks.txt'))),
        errorChunk: () => '',
      },
    };
    const chunks = await collect(
      await fixtureAdapter().stream({ ...basicRequest, n: 2 }, callContext('gemini-2.5-flash')),
    );
    expect((upstream.requests[0]!.body as { generationConfig?: unknown }).generationConfig).toEqual({
      candidateCount: 2,
    });
    const choices = chunks.flatMap((chunk) => chunk.choices);
    for (const index of [0, 1]) {
      const mine = choices.filter((choice) => choice.index === index);
      expect(mine[0]?.delta.role).toBe('assistant');
      expect(
        mine.filter((choice) => choice.finish_reason !== null).map((choice) => choice.finish_reason),
      ).toEqual(['stop']);
    }
    const text = (index: number) =>
      choices
        .filter((choice) => choice.index === index)
        .map((choice) => choice.delta.content ?? '')
        .join('');
    expect([text(0), text(1)]).toEqual(['Roses are red.', 'The sky is blue today.']);
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 7, completion_tokens: 9, total_tokens: 16 },
    });
  });

  it('fails a stream of n > 1 that ends before every candidate finished', () => {
    const mapper = new GeminiStreamMapper('gemini', 'gemini-2.5-flash', 'id', 0);
    const event = (candidates: unknown[]) => ({
      event: undefined,
      id: undefined,
      data: JSON.stringify({ candidates }),
    });
    mapper.map(
      event([
        { content: { parts: [{ text: 'a' }] }, index: 0 },
        { content: { parts: [{ text: 'b' }] }, index: 1 },
      ]),
    );
    mapper.map(event([{ content: { parts: [{ text: '.' }] }, finishReason: 'STOP', index: 0 }]));
    expect(() => mapper.end()).toThrow(expect.objectContaining({ code: 'upstream_stream_error' }) as Error);
  });

  it('streams function calls as tool_call deltas from the mock upstream', async () => {
    const chunks = await collect(
      await adapter.stream(
        { ...toolRoundTripRequest, tool_choice: 'required' },
        callContext('gemini-2.5-flash'),
      ),
    );
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'get_weather', arguments: '{"location":"Boston, MA"}' },
    });
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
  });

  it.each([
    ['api-key-invalid.json', 400, 'upstream_auth_error'],
    ['permission-denied.json', 403, 'upstream_auth_error'],
    ['not-found.json', 404, 'upstream_not_found'],
    ['input-token-count-exceeded.json', 400, 'context_length_exceeded'],
    ['internal.json', 500, 'upstream_error'],
    ['overloaded.json', 503, 'upstream_unavailable'],
  ] as const)(
    'maps the documented error %s (HTTP %i) to %s without echoing the key',
    async (file, status, code) => {
      upstream.fault({ kind: 'status', status, body: fixtureJson(fixture(file)) });
      const error = await rejection(adapter.chat(basicRequest, callContext('gemini-2.5-flash')));
      expect(error.code).toBe(code);
      expect(JSON.stringify(error.toJSON())).not.toContain(API_KEY);
    },
  );

  it('cancels the upstream request when the caller aborts mid-stream, and when the consumer stops reading', async () => {
    const path = '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse';
    upstream.fault({ kind: 'stall-stream', afterChunks: 2 });
    const controller = new AbortController();
    const aborted = upstream.nextAbort();
    const iterator = (await adapter.stream(basicRequest, callContext('gemini-2.5-flash', controller.signal)))[
      Symbol.asyncIterator
    ]();
    expect((await iterator.next()).done).toBe(false);
    controller.abort();
    // chunks already received may still be delivered; the stream then fails as aborted
    const drain = async (): Promise<void> => {
      for (let result = await iterator.next(); result.done !== true; result = await iterator.next());
    };
    await expect(drain()).rejects.toMatchObject({ code: 'client_closed_request' });
    expect((await aborted).path).toBe(path);

    upstream.fault({ kind: 'stall-stream', afterChunks: 2 });
    const stopped = upstream.nextAbort();
    const reader = (await adapter.stream(basicRequest, callContext('gemini-2.5-flash')))[
      Symbol.asyncIterator
    ]();
    expect((await reader.next()).done).toBe(false);
    await reader.return?.();
    expect((await stopped).path).toBe(path);
  });

  it('maps 429 RESOURCE_EXHAUSTED with Retry-After to a retryable rate-limit error, for a whole answer and a stream', async () => {
    upstream.fault({
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '12' },
      body: fixtureJson(fixture('rate-limited.json')),
    });
    const error = await rejection(adapter.chat(basicRequest, callContext('gemini-2.5-flash')));
    expect(error).toMatchObject({ code: 'upstream_rate_limited', retryable: true, retryAfterMs: 12_000 });
    const streamed = await rejection(adapter.stream(basicRequest, callContext('gemini-2.5-flash')));
    expect(streamed.toJSON()).toEqual(error.toJSON());
    expect(streamed.retryAfterMs).toBe(12_000);
  });

  it("waits as long as a 429's RetryInfo asks when there is no Retry-After header (Google sends the wait in the body)", async () => {
    const body = fixtureJson(fixture('rate-limited-retry-info.json'));
    upstream.fault({ kind: 'status', status: 429, body, times: 1 });
    const error = await rejection(adapter.chat(basicRequest, callContext('gemini-2.5-flash')));
    expect(error).toMatchObject({ code: 'upstream_rate_limited', retryable: true, retryAfterMs: 34_000 });
    upstream.fault({ kind: 'status', status: 429, body, times: 1 });
    const streamed = await rejection(adapter.stream(basicRequest, callContext('gemini-2.5-flash')));
    expect(streamed.retryAfterMs).toBe(34_000);
    // a header, where there is one, wins
    upstream.fault({ kind: 'status', status: 429, headers: { 'retry-after': '5' }, body, times: 1 });
    expect((await rejection(adapter.chat(basicRequest, callContext('gemini-2.5-flash')))).retryAfterMs).toBe(
      5_000,
    );
  });

  it('fails a stream that sends an error event midway, and one that is cut', async () => {
    upstream.fault({ kind: 'stream-error', afterChunks: 2, times: 1 });
    const failed = await rejection(
      collect(await adapter.stream(basicRequest, callContext('gemini-2.5-flash'))),
    );
    expect(failed.code).toBe('upstream_stream_error');
    // the error's status, as a non-streamed Google error keeps it
    expect(failed.toJSON().error).toMatchObject({ provider_code: 'INTERNAL' });
    upstream.fault({ kind: 'cut-stream', afterChunks: 2, times: 1 });
    const cut = await rejection(collect(await adapter.stream(basicRequest, callContext('gemini-2.5-flash'))));
    expect(['upstream_stream_error', 'upstream_connection_error']).toContain(cut.code);
  });

  it('keeps the running usage of a stream cut or abandoned before its end where the engine reads it', async () => {
    expect(new GeminiStreamMapper('gemini', 'gemini-2.5-flash', 'id', 0).usageSoFar()).toBeUndefined();
    // the mock's event i (from 0) counts 8 prompt tokens (2 cached), i + 1 candidate tokens and 4 thoughts
    const after = (events: number) => ({
      prompt_tokens: 8,
      completion_tokens: events + 4,
      total_tokens: 8 + events + 4,
      prompt_tokens_details: { cached_tokens: 2, image_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 4 },
    });
    upstream.fault({ kind: 'cut-stream', afterChunks: 2, times: 1 });
    const cut = await adapter.stream(basicRequest, callContext('gemini-2.5-flash'));
    await rejection(collect(cut));
    expect(usageSoFarOf(cut)?.usageSoFar()).toEqual(after(2));

    upstream.fault({ kind: 'stall-stream', afterChunks: 3, times: 1 });
    const stalled = await adapter.stream(basicRequest, callContext('gemini-2.5-flash'));
    const reader = stalled[Symbol.asyncIterator]();
    // the three events before the stall give the role and text chunks: read them, then leave
    for (let read = 0; read < 3; read++) expect((await reader.next()).done).toBe(false);
    await reader.return?.();
    expect(usageSoFarOf(stalled)?.usageSoFar()).toEqual(after(3));
  });

  it('embeds one input with embedContent and a batch with batchEmbedContents, in float or base64', async () => {
    const one = await adapter.embed(
      { model: 'x', input: 'hello', dimensions: 4 },
      callContext('gemini-embedding-001'),
    );
    expect(upstream.requests[0]!.path).toBe('/v1beta/models/gemini-embedding-001:embedContent');
    expect(upstream.requests[0]!.body).toMatchObject({
      content: { parts: [{ text: 'hello' }] },
      outputDimensionality: 4,
    });
    expect(one.data[0]?.embedding).toHaveLength(4);
    const batch = await adapter.embed(
      { model: 'x', input: ['a', 'b', 'c'], encoding_format: 'base64' },
      callContext('gemini-embedding-001'),
    );
    expect(upstream.requests[1]!.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(batch.data.map((d) => d.index)).toEqual([0, 1, 2]);
    const decoded = decodeBase64Floats(batch.data[1]?.embedding as string);
    expect(decoded.length).toBe(8);
    expect(decoded[0]).toBeCloseTo(0.02);
  });

  it('embeds more than 100 inputs in batches of at most 100 (Google refuses a larger one), vectors in input order', async () => {
    const capped = new GeminiAdapter(
      { name: 'gemini', type: 'gemini', apiKey: API_KEY, baseUrl: `${upstream.url}/batch-cap` },
      { dispatcher, logger: silentLogger },
    );
    const texts = Array.from({ length: 250 }, (_v, i) => String(i));
    const response = await capped.embed({ model: 'x', input: texts }, callContext('gemini-embedding-001'));
    expect(
      upstream.requests.map((request) => (request.body as { requests: unknown[] }).requests.length),
    ).toEqual([100, 100, 50]);
    expect(response.data.map((entry) => entry.index)).toEqual(texts.map((_text, i) => i));
    expect(response.data.map((entry) => (entry.embedding as number[])[0])).toEqual(texts.map(Number));
    expect(response.usage).toEqual({ prompt_tokens: 0, total_tokens: 0 });
  });

  it('fails a batch answered with another number of embeddings than it sent, rather than shift every later vector', async () => {
    next = { json: { embeddings: [{ values: [1] }] } };
    const error = await rejection(
      fixtureAdapter().embed({ model: 'x', input: ['a', 'b'] }, callContext('gemini-embedding-001')),
    );
    expect(error.code).toBe('upstream_error');
  });

  it('maps documented embedding bodies', async () => {
    next = { json: fixtureJson(fixture('batch-embed-contents.json')) };
    const batch = await fixtureAdapter().embed(
      { model: 'x', input: ['a', 'b'] },
      callContext('gemini-embedding-001'),
    );
    expect(batch.data[1]?.embedding).toEqual([-0.02011, 0.0132, 0.0451, -0.0007]);
    next = { json: fixtureJson(fixture('embed-content.json')) };
    const one = await fixtureAdapter().embed({ model: 'x', input: 'a' }, callContext('gemini-embedding-001'));
    expect(one.data[0]?.embedding).toHaveLength(4);
  });
});
