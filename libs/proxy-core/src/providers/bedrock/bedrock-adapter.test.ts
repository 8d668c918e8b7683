import {
  BEDROCK_TEST_API_KEY,
  BEDROCK_TEST_CREDENTIALS,
  createMockUpstream,
  eventStreamChunks,
  replyWithFixture,
  verifyBedrockAuth,
  type FixtureReply,
  type MockRoute,
  type MockUpstream,
} from '@switchyard/testing';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  basicRequest,
  callContext,
  collect,
  fixtureJson,
  fixtureText,
  rejection,
  streamedText,
  toolRoundTripRequest,
} from '../../../test/support/provider-test-kit';
import { functionTool } from '../../../test/support/function-tool-forms';
import { silentLogger } from '../../options/logger';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../../wire/openai-chat';
import { BedrockAdapter, type BedrockProviderOptions } from './bedrock-adapter';
import type { BedrockConverseRequest } from './bedrock-wire';
import { BedrockStreamMapper } from './from-bedrock-stream';

const CLAUDE = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const CLAUDE_PROFILE = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0';
const LLAMA = 'meta.llama3-1-70b-instruct-v1:0';
const fixture = (name: string): URL => new URL(`./__fixtures__/${name}`, import.meta.url);
const errors = fixtureJson(fixture('bedrock-errors.json')) as Record<
  string,
  { status: number; body: unknown }
>;

const stream = (name: string): FixtureReply => ({
  stream: {
    contentType: 'application/vnd.amazon.eventstream',
    chunks: eventStreamChunks(fixtureText(fixture(name))),
    errorChunk: () => new Uint8Array(0),
  },
});
// each fixture under its own base path; the route checks the signature before replaying it
const FIXTURES: Record<string, FixtureReply> = {
  text: { json: fixtureJson(fixture('converse-text.json')) },
  'tool-use': { json: fixtureJson(fixture('converse-tool-use.json')) },
  'cache-usage': { json: fixtureJson(fixture('converse-cache-usage.json')) },
  guardrail: { json: fixtureJson(fixture('converse-guardrail.json')) },
  'text-stream': stream('converse-stream-text.chunks.txt'),
  'tool-use-stream': stream('converse-stream-tool-use.chunks.txt'),
  'error-stream': stream('converse-stream-error.chunks.txt'),
  'throttled-stream': stream('converse-stream-throttled.chunks.txt'),
};
const routes: MockRoute[] = Object.entries(FIXTURES).map(([name, reply]) => ({
  method: 'POST',
  path: new RegExp(`^/fx/${name}/model/[^/]+/converse(-stream)?$`),
  handle: async (exchange) => {
    const refusal = await verifyBedrockAuth(exchange.req, exchange.url, exchange.rawBody);
    if (refusal !== undefined) throw new Error(`fixture request not signed: ${refusal.message}`);
    await replyWithFixture(exchange, reply);
  },
}));

let upstream: MockUpstream;
let dispatcher: Agent;

const make = (options: Partial<BedrockProviderOptions> = {}, base = ''): BedrockAdapter =>
  new BedrockAdapter(
    {
      name: 'bedrock',
      type: 'bedrock',
      region: 'us-east-1',
      baseUrl: `${upstream.url}${base}`,
      ...BEDROCK_TEST_CREDENTIALS,
      ...options,
    },
    { dispatcher, logger: silentLogger },
  );
const replaying = (name: string): BedrockAdapter => make({}, `/fx/${name}`);
const sent = (): BedrockConverseRequest => upstream.requests.at(-1)?.body as BedrockConverseRequest;
const header = (name: string): string | undefined =>
  upstream.requests.at(-1)?.headers[name] as string | undefined;
const toolDeltas = (chunks: ChatCompletionChunk[]) =>
  chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);

beforeAll(async () => {
  upstream = await createMockUpstream({ routes });
  dispatcher = new Agent();
});
afterEach(() => upstream.reset());
afterAll(async () => {
  await dispatcher.close();
  await upstream.close();
});

describe('bedrock adapter: authentication', () => {
  it('signs with SigV4 (verified by the mock with the same library) and percent-encodes the model id in the path', async () => {
    const response = await make().chat(basicRequest, callContext(CLAUDE));
    expect(response.choices[0]?.message.content).toBe('\n\nHello there, how may I assist you today?');
    expect(upstream.requests[0]?.path).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
    expect(header('authorization')).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(header('x-amz-date')).toMatch(/^\d{8}T\d{6}Z$/);
    expect(header('x-amz-content-sha256')).toMatch(/^[0-9a-f]{64}$/);
    expect(header('x-amz-security-token')).toBeUndefined();
    expect(JSON.stringify(upstream.requests[0]?.headers)).not.toContain(
      BEDROCK_TEST_CREDENTIALS.secretAccessKey,
    );
  });

  it('sends the session token of temporary credentials, signed', async () => {
    await make({ sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE-session-token' }).chat(
      basicRequest,
      callContext(CLAUDE_PROFILE),
    );
    expect(header('x-amz-security-token')).toBe('IQoJb3JpZ2luX2VjEXAMPLE-session-token');
    expect(header('authorization')).toContain('x-amz-security-token');
    expect(upstream.requests[0]?.path).toBe('/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
  });

  it('is refused (upstream_auth_error, not retried elsewhere by code) when the secret is wrong or the key unknown', async () => {
    const badSecret = await rejection(
      make({ secretAccessKey: 'not-the-secret-key-0000000000000000000000' }).chat(
        basicRequest,
        callContext(CLAUDE),
      ),
    );
    expect(badSecret).toMatchObject({ code: 'upstream_auth_error', upstreamStatus: 403 });
    expect(JSON.stringify(badSecret.toJSON())).not.toContain('not-the-secret-key');
    const unknownKey = await rejection(
      make({ accessKeyId: 'AKIAUNKNOWNKEY000000' }).chat(basicRequest, callContext(CLAUDE)),
    );
    expect(unknownKey.code).toBe('upstream_auth_error');
  });

  it('sends a Bedrock API key as a bearer token instead of signing', async () => {
    const adapter = make({
      accessKeyId: undefined,
      secretAccessKey: undefined,
      apiKey: BEDROCK_TEST_API_KEY,
    });
    await adapter.chat(basicRequest, callContext(CLAUDE));
    expect(header('authorization')).toBe(`Bearer ${BEDROCK_TEST_API_KEY}`);
    expect(header('x-amz-date')).toBeUndefined();
  });

  it('refuses half a key pair, or several kinds of credentials', () => {
    expect(() => make({ secretAccessKey: undefined })).toThrow(/together/);
    expect(() => make({ apiKey: BEDROCK_TEST_API_KEY })).toThrow(/not several/);
  });
});

describe('bedrock adapter: requests', () => {
  it("sends tool ids without the Gemini thought signature folded into them, within Bedrock's 64 characters", async () => {
    const signed =
      'call_chatcmpl-0b1e7c2a-5d4f-4e8a-9c3b-2f6a7d8e9f01_0_0__ts_CiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPsCiQBDH5fv_4_hKH3-----fAPs';
    await make().chat(
      {
        ...toolRoundTripRequest,
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
      },
      callContext(CLAUDE),
    );
    const ids = sent().messages.flatMap((message) =>
      message.content.flatMap((block) =>
        [block.toolUse?.toolUseId, block.toolResult?.toolUseId].filter((id) => id !== undefined),
      ),
    );
    expect(ids).toEqual([
      'call_chatcmpl-0b1e7c2a-5d4f-4e8a-9c3b-2f6a7d8e9f01_0_0',
      'call_chatcmpl-0b1e7c2a-5d4f-4e8a-9c3b-2f6a7d8e9f01_0_0',
    ]);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(64);
  });

  it('translates system, images, tool calls, tool results, inference settings and tools', async () => {
    await make().chat(toolRoundTripRequest, callContext(CLAUDE));
    expect(sent()).toEqual({
      system: [{ text: 'You are a helpful assistant.' }],
      messages: [
        {
          role: 'user',
          content: [
            { text: 'What is the weather where this photo was taken?' },
            { image: { format: 'png', source: { bytes: expect.stringMatching(/^iVBOR/) as unknown } } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { location: 'Boston, MA' } } },
          ],
        },
        {
          role: 'user',
          content: [{ toolResult: { toolUseId: 'call_1', content: [{ text: '{"temperature_c":21}' }] } }],
        },
      ],
      inferenceConfig: { maxTokens: 256, temperature: 0.3, stopSequences: ['END'] },
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name: 'get_weather',
              description: 'Current weather',
              inputSchema: { json: functionTool(toolRoundTripRequest.tools?.[0])?.function.parameters },
            },
          },
        ],
      },
    });
  });

  it('maps tool_choice required -> any, a named function -> tool, and none -> no tools', async () => {
    const tools = toolRoundTripRequest.tools;
    await make().chat({ ...basicRequest, tools, tool_choice: 'required', top_p: 0.9 }, callContext(CLAUDE));
    expect(sent().toolConfig?.toolChoice).toEqual({ any: {} });
    expect(sent().inferenceConfig).toEqual({ topP: 0.9 });
    // with temperature, Claude gets temperature alone (Sonnet 4.5 and later refuse both), by any
    // of its ids; another model gets both
    for (const model of [CLAUDE, CLAUDE_PROFILE, `arn:aws:bedrock:us-east-1::foundation-model/${CLAUDE}`]) {
      await make().chat({ ...basicRequest, temperature: 0.2, top_p: 0.9 }, callContext(model));
      expect(sent().inferenceConfig).toEqual({ temperature: 0.2 });
    }
    await make().chat({ ...basicRequest, temperature: 0.2, top_p: 0.9 }, callContext('amazon.nova-pro-v1:0'));
    expect(sent().inferenceConfig).toEqual({ temperature: 0.2, topP: 0.9 });
    await make().chat(
      { ...basicRequest, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } },
      callContext(CLAUDE),
    );
    expect(sent().toolConfig?.toolChoice).toEqual({ tool: { name: 'get_weather' } });
    await make().chat({ ...basicRequest, tools, tool_choice: 'none' }, callContext(CLAUDE));
    expect(sent().toolConfig).toBeUndefined();
  });

  it('sends a tool history as text when the request offers no tools (none given, or tool_choice none), which Converse takes without a toolConfig', async () => {
    // the mock refuses tool blocks without a toolConfig, as Converse does
    const { tools: _tools, ...withoutTools } = toolRoundTripRequest;
    for (const request of [withoutTools, { ...toolRoundTripRequest, tool_choice: 'none' as const }]) {
      const response = await make().chat(request, callContext(CLAUDE));
      expect(response.choices[0]?.finish_reason).toBe('stop');
      const body = sent();
      expect(body.toolConfig).toBeUndefined();
      expect(body.messages.slice(1)).toEqual([
        {
          role: 'assistant',
          content: [{ text: '[tool call: get_weather({"location":"Boston, MA"})]' }],
        },
        { role: 'user', content: [{ text: '[tool result of get_weather: {"temperature_c":21}]' }] },
      ]);
    }
    // with the tools offered, the blocks stay blocks
    await make().chat(toolRoundTripRequest, callContext(CLAUDE));
    expect(sent().messages[1]?.content[0]).toHaveProperty('toolUse');
  });

  it('refuses image URLs Converse cannot fetch, and unsupported image types, before any upstream call', async () => {
    const url = await rejection(
      make().chat(
        {
          ...basicRequest,
          messages: [
            {
              role: 'user',
              content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }],
            },
          ],
        },
        callContext(CLAUDE),
      ),
    );
    expect(url).toMatchObject({ code: 'invalid_request', param: 'messages.0.content.0.image_url.url' });
    expect(url.message).toMatch(/does not fetch image URLs/);
    const tiff = await rejection(
      make().chat(
        {
          ...basicRequest,
          messages: [
            {
              role: 'user',
              content: [{ type: 'image_url', image_url: { url: 'data:image/tiff;base64,AAAA' } }],
            },
          ],
        },
        callContext(CLAUDE),
      ),
    );
    expect(tiff.code).toBe('invalid_request');
    const n = await rejection(make().chat({ ...basicRequest, n: 2 }, callContext(CLAUDE)));
    expect(n.code).toBe('unsupported_feature');
    expect(upstream.requests).toHaveLength(0);
  });

  it('rejects tool call arguments that are not a JSON object, naming the field', async () => {
    const history = (args: string): ChatCompletionRequest => ({
      ...basicRequest,
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
    for (const args of ['{broken', '"text"']) {
      const error = await rejection(make().chat(history(args), callContext(CLAUDE)));
      expect(error).toMatchObject({
        code: 'invalid_request',
        param: 'messages.1.tool_calls.0.function.arguments',
      });
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it('sends the same Converse shape for a Llama model', async () => {
    const response = await make().chat({ ...basicRequest, max_tokens: 512 }, callContext(LLAMA));
    expect(upstream.requests[0]?.path).toBe('/model/meta.llama3-1-70b-instruct-v1%3A0/converse');
    expect(sent()).toEqual({
      messages: [{ role: 'user', content: [{ text: 'Hello!' }] }],
      inferenceConfig: { maxTokens: 512 },
    });
    expect(response.model).toBe(LLAMA);
  });
});

describe('bedrock adapter: documented responses', () => {
  it('maps a text response with stop reason and usage', async () => {
    const response = await replaying('text').chat(basicRequest, callContext(CLAUDE));
    expect(response).toMatchObject({
      object: 'chat.completion',
      model: CLAUDE,
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant' } }],
    });
    expect(response.id).toMatch(/^chatcmpl-/);
    expect(response.choices[0]?.message.content).toMatch(/^Here is a list of 3 pop songs/);
    expect(response.usage).toEqual({
      prompt_tokens: 24,
      completion_tokens: 49,
      total_tokens: 73,
      prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 0 },
    });
  });

  it('maps toolUse blocks to tool_calls', async () => {
    const response = await replaying('tool-use').chat(toolRoundTripRequest, callContext(CLAUDE));
    const choice = response.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe(
      'To find the most popular song on WZPZ, I will use the top_song tool.',
    );
    expect(choice.message.tool_calls).toEqual([
      {
        id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
        type: 'function',
        function: { name: 'top_song', arguments: '{"sign":"WZPZ"}' },
      },
    ]);
  });

  it('counts cache reads and writes in the prompt and keeps them apart', async () => {
    const response = await replaying('cache-usage').chat(basicRequest, callContext(CLAUDE));
    expect(response.usage).toEqual({
      prompt_tokens: 3230,
      completion_tokens: 14,
      total_tokens: 3244,
      prompt_tokens_details: { cached_tokens: 3218, cache_creation_tokens: 0 },
    });
  });

  it('maps a guardrail intervention to the content_filter finish reason', async () => {
    const response = await replaying('guardrail').chat(basicRequest, callContext(CLAUDE));
    expect(response.choices[0]?.finish_reason).toBe('content_filter');
  });
});

describe('bedrock adapter: streams', () => {
  it('decodes a binary event stream into text chunks, one finish, then usage with cache reads', async () => {
    const chunks = await collect(await replaying('text-stream').stream(basicRequest, callContext(CLAUDE)));
    expect(upstream.requests[0]?.path).toBe(
      '/fx/text-stream/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream',
    );
    expect(upstream.requests[0]?.headers['accept']).toBe('application/vnd.amazon.eventstream');
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(streamedText(chunks)).toBe(
      'The sky appears blue because air scatters short wavelengths of sunlight more than long ones.',
    );
    expect(
      chunks
        .filter((c) => c.choices[0]?.finish_reason !== null && c.choices[0]?.finish_reason !== undefined)
        .map((c) => c.choices[0]?.finish_reason),
    ).toEqual(['stop']);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({
      prompt_tokens: 1038,
      completion_tokens: 23,
      total_tokens: 1061,
      prompt_tokens_details: { cached_tokens: 1024, cache_creation_tokens: 0 },
    });
  });

  it('streams a tool call: id and name first, then the partial JSON arguments in order', async () => {
    const chunks = await collect(
      await replaying('tool-use-stream').stream(toolRoundTripRequest, callContext(CLAUDE)),
    );
    expect(streamedText(chunks)).toBe("I'll look up the top song on WZPZ.");
    const deltas = toolDeltas(chunks);
    expect(deltas[0]).toEqual({
      index: 0,
      id: 'tooluse_mFOW0xt5SPaWk7SuKc4Vow',
      type: 'function',
      function: { name: 'top_song', arguments: '' },
    });
    expect(deltas.map((d) => d.function?.arguments ?? '').join('')).toBe('{"sign": "WZPZ"}');
    expect(deltas.every((d) => d.index === 0)).toBe(true);
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
    expect(chunks.at(-1)?.usage?.total_tokens).toBe(439);
  });

  it('streams "{}" as the arguments of a tool called without input, and nothing more for one with input', () => {
    const mapper = new BedrockStreamMapper('bedrock', CLAUDE, 'chatcmpl-1', 0);
    const event = (type: string, payload: unknown) =>
      mapper.map({ messageType: 'event', type, payload: JSON.stringify(payload) });
    const chunks = [
      ...event('messageStart', { role: 'assistant' }),
      ...event('contentBlockStart', {
        contentBlockIndex: 0,
        start: { toolUse: { toolUseId: 'tooluse_1', name: 'get_time' } },
      }),
      ...event('contentBlockStop', { contentBlockIndex: 0 }),
      ...event('contentBlockStart', {
        contentBlockIndex: 1,
        start: { toolUse: { toolUseId: 'tooluse_2', name: 'top_song' } },
      }),
      ...event('contentBlockDelta', {
        contentBlockIndex: 1,
        delta: { toolUse: { input: '{"sign": "WZPZ"}' } },
      }),
      ...event('contentBlockStop', { contentBlockIndex: 1 }),
      ...event('messageStop', { stopReason: 'tool_use' }),
    ];
    const args = new Map<number, string>();
    for (const call of toolDeltas(chunks))
      args.set(call.index, (args.get(call.index) ?? '') + (call.function?.arguments ?? ''));
    expect([...args.values()]).toEqual(['{}', '{"sign": "WZPZ"}']);
  });

  it('streams text and tool calls from the mock Bedrock for Claude and Llama model ids', async () => {
    const text = await collect(await make().stream(basicRequest, callContext(LLAMA)));
    expect(streamedText(text)).toBe('\n\nHello there, how may I assist you today?');
    expect(text.at(-1)?.usage).toMatchObject({ prompt_tokens: 19, completion_tokens: 10, total_tokens: 29 });
    const tools = await collect(
      await make().stream({ ...toolRoundTripRequest, tool_choice: 'required' }, callContext(CLAUDE_PROFILE)),
    );
    expect(
      toolDeltas(tools)
        .map((d) => d.function?.arguments ?? '')
        .join(''),
    ).toBe('{"location": "Seattle, WA"}');
  });

  it('fails a stream whose model errors midway with upstream_stream_error, after the text so far', async () => {
    const received: ChatCompletionChunk[] = [];
    const error = await rejection(
      (async () => {
        for await (const chunk of await replaying('error-stream').stream(basicRequest, callContext(CLAUDE)))
          received.push(chunk);
      })(),
    );
    expect(streamedText(received)).toBe('Once upon a time');
    expect(error.code).toBe('upstream_stream_error');
    expect(error.message).toContain('modelStreamErrorException');
    // the exception's type, as a non-streamed Bedrock error keeps its `x-amzn-errortype`
    expect(error.toJSON().error).toMatchObject({ provider_code: 'modelStreamErrorException' });
  });

  it('keeps the meaning of a throttling exception inside a stream (retryable rate limit)', async () => {
    const error = await rejection(
      collect(await replaying('throttled-stream').stream(basicRequest, callContext(CLAUDE))),
    );
    expect(error).toMatchObject({ code: 'upstream_rate_limited', retryable: true });
  });

  it('fails a stream the mock breaks with an exception event, and one cut mid-message', async () => {
    upstream.fault({ kind: 'stream-error', afterChunks: 3, times: 1 });
    const failed = await rejection(collect(await make().stream(basicRequest, callContext(CLAUDE))));
    expect(failed.code).toBe('upstream_stream_error');
    upstream.fault({ kind: 'cut-stream', afterChunks: 3, times: 1 });
    const cut = await rejection(collect(await make().stream(basicRequest, callContext(CLAUDE))));
    expect(['upstream_stream_error', 'upstream_connection_error']).toContain(cut.code);
  });

  it('cancels the upstream call when the consumer aborts', async () => {
    upstream.fault({ kind: 'stall-stream', afterChunks: 2, times: 1 });
    const controller = new AbortController();
    const aborted = upstream.nextAbort();
    const chunks = await make().stream(basicRequest, callContext(CLAUDE, controller.signal));
    const iterator = chunks[Symbol.asyncIterator]();
    await iterator.next();
    controller.abort();
    await iterator.return?.();
    expect((await aborted).path).toContain('/converse-stream');
  });
});

describe('bedrock adapter: errors', () => {
  it.each([
    ['ValidationException', 'context_length_exceeded'],
    ['AccessDeniedException', 'upstream_auth_error'],
    ['UnrecognizedClientException', 'upstream_auth_error'],
    ['ResourceNotFoundException', 'upstream_not_found'],
    ['ThrottlingException', 'upstream_rate_limited'],
    ['ModelNotReadyException', 'upstream_unavailable'],
    ['ServiceQuotaExceededException', 'upstream_rate_limited'],
    ['InternalServerException', 'upstream_error'],
    ['ServiceUnavailableException', 'upstream_unavailable'],
    ['ModelTimeoutException', 'upstream_timeout'],
    ['ModelErrorException', 'upstream_error'],
  ] as const)('maps %s (x-amzn-errortype) to %s', async (type, code) => {
    const { status, body } = errors[type]!;
    upstream.fault({
      kind: 'status',
      status,
      body,
      headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` },
    });
    const error = await rejection(make().chat(basicRequest, callContext(CLAUDE)));
    expect(error).toMatchObject({ code, provider: 'bedrock', upstreamStatus: status });
    expect(JSON.stringify(error.toJSON())).not.toContain(BEDROCK_TEST_CREDENTIALS.secretAccessKey);
  });

  it('keeps Retry-After of a 429 throttling error', async () => {
    const { status, body } = errors['ThrottlingException']!;
    upstream.fault({
      kind: 'status',
      status,
      body,
      headers: { 'x-amzn-errortype': 'ThrottlingException', 'retry-after': '7' },
    });
    const error = await rejection(make().stream(basicRequest, callContext(CLAUDE)));
    expect(error).toMatchObject({ code: 'upstream_rate_limited', retryable: true, retryAfterMs: 7000 });
  });

  it('reads the type from the status alone when the header is missing, and a plain 400 stays a bad request', async () => {
    upstream.fault({ kind: 'status', status: 500, body: { message: 'boom' }, times: 1 });
    expect((await rejection(make().chat(basicRequest, callContext(CLAUDE)))).code).toBe('upstream_error');
    upstream.fault({
      kind: 'status',
      status: 400,
      body: { message: 'The provided request is not valid' },
      headers: { 'x-amzn-errortype': 'ValidationException' },
    });
    const bad = await rejection(make().chat(basicRequest, callContext(CLAUDE)));
    expect(bad.code).toBe('upstream_bad_request');
    expect(bad.message).toContain('The provided request is not valid');
  });
});
