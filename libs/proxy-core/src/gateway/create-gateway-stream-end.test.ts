import { describe, expect, it } from 'vitest';
import { useGatewayFixture } from '../../test/support/gateway-fixture';
import { SwitchyardError } from '../errors/switchyard-error';
import type { UsageReport } from '../hooks/gateway-hooks';
import type { Logger } from '../options/logger';
import { PROVIDER_CONTRACT_VERSION, type ProviderFactory } from '../providers/provider-adapter';
import { engineStreamReads } from '../stream/chunk-reads';
import { withUsageSoFar, type UsageSoFar } from '../stream/stream-usage-so-far';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../wire/openai-chat';
import { createGateway, type Gateway } from './create-gateway';
import type { GatewayOptions } from './gateway-options';
import { createRequestContext, type RequestContext } from './request-context';

// how an engine stream ends when it does not run to its end: cut upstream, closed by its
// consumer (even before the first read), or with an adapter whose cleanup fails

const fixture = useGatewayFixture();
const hello: ChatCompletionRequest = { model: 'gpt', messages: [{ role: 'user', content: 'Hello!' }] };
const base = { id: 'c', object: 'chat.completion.chunk' as const, created: 1, model: 'v' };

/** An engine on the mock upstream (OpenAI as `gpt`, Anthropic as `claude`, Gemini as `gemini`), one stream at a time per target. */
function make(options: Partial<GatewayOptions> = {}): Gateway {
  const gateway = createGateway({
    providers: [
      {
        name: 'openai',
        type: 'openai',
        baseUrl: `${fixture.upstream.url}/v1`,
        apiKey: 'sk-openai-0000000000',
      },
      {
        name: 'anthropic',
        type: 'anthropic',
        baseUrl: `${fixture.upstream.url}/v1`,
        apiKey: 'sk-ant-0000000000',
      },
      {
        name: 'gemini',
        type: 'gemini',
        baseUrl: `${fixture.upstream.url}/v1beta`,
        apiKey: 'AIza-0000000000',
      },
    ],
    models: [
      { name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o-mini', limits: { maxConcurrent: 1 } }] },
      {
        name: 'claude',
        targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-20250514', limits: { maxConcurrent: 1 } }],
      },
      {
        name: 'gemini',
        targets: [{ provider: 'gemini', model: 'gemini-2.5-flash', limits: { maxConcurrent: 1 } }],
      },
    ],
    retry: { maxRetries: 0 },
    ...options,
  });
  return fixture.track(gateway);
}

/** An engine whose only target is a plugin adapter streaming what `stream` yields. */
function withAdapterStream(
  stream: () => AsyncIterable<ChatCompletionChunk>,
  options: Partial<GatewayOptions> = {},
): Gateway {
  const factory: ProviderFactory = {
    type: 'scripted',
    create: ({ name }) => ({
      contractVersion: PROVIDER_CONTRACT_VERSION,
      name,
      type: 'scripted',
      chat: () => Promise.reject(new Error('streams only')),
      stream: async () => stream(),
    }),
  };
  return make({
    plugins: [
      {
        name: 'scripted',
        apply: (hooks) => hooks.registerProviders.tap('scripted', (registry) => registry.register(factory)),
      },
    ],
    providers: [{ name: 'scripted', type: 'scripted' }],
    models: [{ name: 'gpt', targets: [{ provider: 'scripted', model: 'v', limits: { maxConcurrent: 1 } }] }],
    ...options,
  });
}

/** What the gateway's observers saw. */
function watch(gateway: Gateway): { usage: UsageReport[]; ends: RequestContext[] } {
  const seen = { usage: [] as UsageReport[], ends: [] as RequestContext[] };
  gateway.hooks.onUsage.tap('watch', (report) => void seen.usage.push(report));
  gateway.hooks.onRequestEnd.tap('watch', (context) => void seen.ends.push(context));
  return seen;
}

describe('a stream cut before its end', () => {
  it('reports the usage that arrived before the upstream broke, as partial', async () => {
    const gateway = withAdapterStream(async function* () {
      yield { ...base, choices: [{ index: 0, delta: { content: 'a' }, finish_reason: 'stop' }] };
      yield { ...base, choices: [], usage: { prompt_tokens: 10, completion_tokens: 900, total_tokens: 910 } };
      throw new Error('connection reset');
    });
    const seen = watch(gateway);
    const context = createRequestContext();
    const stream = await gateway.stream(hello, { context });
    await expect(
      (async () => {
        for await (const chunk of stream) void chunk;
      })(),
    ).rejects.toBeDefined();
    expect(seen.usage).toEqual([
      {
        provider: 'scripted',
        model: 'v',
        usage: { prompt_tokens: 10, completion_tokens: 900, total_tokens: 910 },
        cached: false,
        partial: true,
      },
    ]);
    expect(seen.ends).toEqual([context]);
    expect(context.error).toBeDefined();
  });

  it('reports the usage of the read its consumer closed the stream after, one by one and a read at a time', async () => {
    const asked: ChatCompletionRequest = { ...hello, stream_options: { include_usage: true } };
    const gateway = make();
    const seen = watch(gateway);

    const oneByOne = createRequestContext();
    for await (const chunk of await gateway.stream(asked, { context: oneByOne }))
      if (chunk.usage !== undefined) break;
    const reads = engineStreamReads(await gateway.stream(asked, { context: createRequestContext() }))!;
    for (let next = await reads.next(); next.done !== true; next = await reads.next()) {
      if (next.value.some((chunk) => chunk.usage !== undefined)) break;
    }
    await reads.return?.();

    expect(seen.usage.map((report) => [report.provider, report.usage.total_tokens, report.partial])).toEqual([
      ['openai', 29, true],
      ['openai', 29, true],
    ]);
    expect(seen.ends.map((context) => context.error?.code)).toEqual([
      'client_closed_request',
      'client_closed_request',
    ]);
  });

  it("reports what an Anthropic stream said of its usage before it broke: message_start's input, message_delta's output", async () => {
    // the mock's frames: message_start, a block start, a ping, nine text deltas, the block stop,
    // message_delta (output_tokens: 15), then message_stop, which an error event replaces here
    fixture.upstream.fault({ kind: 'stream-error', afterChunks: 14, times: 1 });
    const gateway = make();
    const seen = watch(gateway);
    const context = createRequestContext();
    const stream = await gateway.stream({ ...hello, model: 'claude' }, { context });
    await expect(
      (async () => {
        for await (const chunk of stream) void chunk;
      })(),
    ).rejects.toMatchObject({ code: 'upstream_stream_error' });
    expect(
      seen.usage.map(({ usage, ...report }) => ({
        ...report,
        tokens: [usage.prompt_tokens, usage.completion_tokens, usage.total_tokens],
      })),
    ).toEqual([
      {
        provider: 'anthropic',
        model: 'claude-sonnet-4-20250514',
        tokens: [25, 15, 40],
        cached: false,
        partial: true,
      },
    ]);
    expect(context.usage?.total_tokens).toBe(40);
  });

  it('reports the input tokens of an Anthropic stream its consumer closed before message_delta, so a disconnect does not hide them', async () => {
    fixture.upstream.fault({ kind: 'stall-stream', afterChunks: 5, times: 1 });
    const gateway = make();
    const seen = watch(gateway);
    const context = createRequestContext();
    const iterator = (await gateway.stream({ ...hello, model: 'claude' }, { context }))[
      Symbol.asyncIterator
    ]();
    expect((await iterator.next()).done).toBe(false);
    await iterator.return?.();
    // message_start's usage: 25 input tokens, and the one output token it counts so far
    expect(
      seen.usage.map((report) => [
        report.usage.prompt_tokens,
        report.usage.completion_tokens,
        report.partial,
      ]),
    ).toEqual([[25, 1, true]]);
    expect(context.error?.code).toBe('client_closed_request');
  });

  it("reports the running usage of a Gemini stream cut midway: its latest event's usageMetadata", async () => {
    // the mock's third event counts 8 prompt tokens, 3 candidate tokens and 4 thoughts (total 15)
    fixture.upstream.fault({ kind: 'cut-stream', afterChunks: 3, times: 1 });
    const gateway = make();
    const seen = watch(gateway);
    const context = createRequestContext();
    const stream = await gateway.stream({ ...hello, model: 'gemini' }, { context });
    await expect(
      (async () => {
        for await (const chunk of stream) void chunk;
      })(),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/^upstream_(stream|connection)_error$/) as unknown,
    });
    expect(
      seen.usage.map(({ usage, ...report }) => ({
        ...report,
        tokens: [usage.prompt_tokens, usage.completion_tokens, usage.total_tokens],
      })),
    ).toEqual([
      { provider: 'gemini', model: 'gemini-2.5-flash', tokens: [8, 7, 15], cached: false, partial: true },
    ]);
    expect(context.usage?.total_tokens).toBe(15);
  });

  it('reports no usage for a stream cut before any count arrived, and a completed stream as not partial', async () => {
    fixture.upstream.fault({ kind: 'stall-stream', afterChunks: 3, times: 1 });
    const gateway = make();
    const seen = watch(gateway);
    const iterator = (await gateway.stream(hello))[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.return?.();
    expect(seen.usage).toEqual([]);
    expect(seen.ends).toHaveLength(1);

    for await (const chunk of await gateway.stream(hello)) void chunk;
    expect(seen.usage.map((report) => [report.usage.total_tokens, report.partial])).toEqual([
      [29, undefined],
    ]);
  });
});

describe('a stream closed before its first read', () => {
  type Close = (stream: AsyncIterable<unknown>) => Promise<unknown> | undefined;
  const byReturn: Close = (stream) => stream[Symbol.asyncIterator]().return?.();
  const byThrow: Close = (stream) =>
    stream[Symbol.asyncIterator]()
      .throw?.(new Error('consumer gave up'))
      .catch(() => undefined);

  /** Opens a stream on a stalling upstream, closes it unread each way, and checks what it held is let go. */
  async function closedUnread(
    open: (gateway: Gateway, context: RequestContext) => Promise<AsyncIterable<unknown>>,
    closes: Record<string, Close>,
  ): Promise<void> {
    for (const [how, close] of Object.entries(closes)) {
      fixture.upstream.fault({ kind: 'stall-stream', afterChunks: 3, times: 1 });
      const gateway = make();
      const seen = watch(gateway);
      const context = createRequestContext();
      const stream = await open(gateway, context);
      expect(gateway.stats().limiters['openai/gpt-4o-mini']?.running, how).toBe(1);
      const aborted = fixture.upstream.nextAbort();
      await close(stream);
      expect(gateway.stats().limiters['openai/gpt-4o-mini']?.running, how).toBe(0);
      expect(seen.ends, how).toEqual([context]);
      expect(context.error?.code, how).toBe('client_closed_request');
      expect((await aborted).path, how).toBe('/v1/chat/completions');
      // closed means closed: nothing more to read
      expect(await stream[Symbol.asyncIterator]().next(), how).toEqual({ done: true, value: undefined });
    }
  }

  it('releases its limiter slot, cancels the upstream call and ends the request, however it is closed', async () => {
    await closedUnread((gateway, context) => gateway.stream(hello, { context }), {
      'return()': byReturn,
      'throw()': byThrow,
      "its reads' return()": (stream) =>
        engineStreamReads(stream as AsyncIterable<ChatCompletionChunk>)?.return?.(),
    });
  });

  it('a legacy completion stream too: its text_completion chunks wrap an engine stream that is closed with it', async () => {
    await closedUnread(
      (gateway, context) => gateway.streamComplete({ model: 'gpt', prompt: 'Hello!' }, { context }),
      { 'return()': byReturn, 'throw()': byThrow },
    );
  });
});

describe('an adapter stream whose return() throws', () => {
  it('still ends the request and releases the slot, and logs the failure', async () => {
    const errors: Array<{ fields: object; message: string | undefined }> = [];
    const noop = (): void => undefined;
    const logger: Logger = {
      trace: noop,
      debug: noop,
      info: noop,
      warn: noop,
      error: (fields, message) => void errors.push({ fields, message }),
    };
    const gateway = withAdapterStream(
      async function* () {
        try {
          yield { ...base, choices: [{ index: 0, delta: { content: 'a' }, finish_reason: null }] };
          yield { ...base, choices: [{ index: 0, delta: { content: 'b' }, finish_reason: 'stop' }] };
        } finally {
          // eslint-disable-next-line no-unsafe-finally -- the plugin bug this test is about
          throw new Error('cleanup bug');
        }
      },
      { logger },
    );
    const seen = watch(gateway);
    const context = createRequestContext();
    for await (const chunk of await gateway.stream(hello, { context }))
      if (chunk.choices[0]?.delta.content === 'a') break;
    expect(seen.ends).toEqual([context]);
    expect(context.error?.code).toBe('client_closed_request');
    expect(gateway.stats().limiters['scripted/v']?.running).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.fields).toMatchObject({
      err: { message: 'cleanup bug' },
      provider: 'scripted',
      requestId: context.requestId,
    });
  });
});

describe("a plugin adapter's usage so far", () => {
  /** An adapter stream that sends one chunk and breaks, stamped with `usageSoFar`. */
  const cutAfterOne = (usageSoFar: UsageSoFar['usageSoFar']) => (): AsyncIterable<ChatCompletionChunk> =>
    withUsageSoFar(
      (async function* () {
        yield { ...base, choices: [{ index: 0, delta: { content: 'a' }, finish_reason: null }] };
        throw new Error('connection reset');
      })(),
      { usageSoFar },
    );
  const drain = async (stream: AsyncIterable<ChatCompletionChunk>): Promise<void> => {
    for await (const chunk of stream) void chunk;
  };

  it('is reported as partial when its stream breaks', async () => {
    const gateway = withAdapterStream(
      cutAfterOne(() => ({ prompt_tokens: 7, completion_tokens: 1, total_tokens: 8 })),
    );
    const seen = watch(gateway);
    await expect(drain(await gateway.stream(hello))).rejects.toBeDefined();
    expect(seen.usage).toEqual([
      {
        provider: 'scripted',
        model: 'v',
        usage: { prompt_tokens: 7, completion_tokens: 1, total_tokens: 8 },
        cached: false,
        partial: true,
      },
    ]);
  });

  it('that throws still lets the request end and release its slot, with no usage, and is logged', async () => {
    const errors: Array<{ fields: object; message: string | undefined }> = [];
    const noop = (): void => undefined;
    const logger: Logger = {
      trace: noop,
      debug: noop,
      info: noop,
      warn: noop,
      error: (fields, message) => void errors.push({ fields, message }),
    };
    const gateway = withAdapterStream(
      cutAfterOne(() => {
        throw new Error('count bug');
      }),
      { logger },
    );
    const seen = watch(gateway);
    const context = createRequestContext();
    await expect(drain(await gateway.stream(hello, { context }))).rejects.toBeDefined();
    expect(seen.ends).toEqual([context]);
    expect(seen.usage).toEqual([]);
    expect(gateway.stats().limiters['scripted/v']?.running).toBe(0);
    expect(errors.map((error) => error.fields)).toEqual([
      expect.objectContaining({
        err: expect.objectContaining({ message: 'count bug' }) as unknown,
        provider: 'scripted',
      }),
    ]);
  });
});

describe("a stream's upstream time", () => {
  it('runs to its last upstream read, not to its first chunk: the rest is not the gateway overhead', async () => {
    const UPSTREAM_PAUSE_MS = 60;
    const gateway = withAdapterStream(async function* () {
      yield { ...base, choices: [{ index: 0, delta: { content: 'a' }, finish_reason: null }] };
      // the upstream takes its time over the rest of the answer
      await new Promise((resolve) => setTimeout(resolve, UPSTREAM_PAUSE_MS));
      yield { ...base, choices: [{ index: 0, delta: { content: 'b' }, finish_reason: 'stop' }] };
    });
    const seen = watch(gateway);
    for await (const _chunk of await gateway.stream(hello)) {
      // read to the end
    }
    const ended = seen.ends[0];
    // a timer may fire a little early (Node's cached clock): a margin, never an upper bound
    expect(ended?.upstreamMs).toBeGreaterThanOrEqual(UPSTREAM_PAUSE_MS - 10);
    expect(ended?.durationMs).toBeGreaterThanOrEqual(ended?.upstreamMs ?? Infinity);
  });

  it("runs to the failure when no attempt answered, whole or streamed: the wait was the upstream's, not the gateway overhead", async () => {
    const UPSTREAM_PAUSE_MS = 60;
    const refuse = async (): Promise<never> => {
      await new Promise((resolve) => setTimeout(resolve, UPSTREAM_PAUSE_MS));
      throw new SwitchyardError('upstream_bad_request', 'refused after a while');
    };
    const factory: ProviderFactory = {
      type: 'slow-refusal',
      create: ({ name }) => ({
        contractVersion: PROVIDER_CONTRACT_VERSION,
        name,
        type: 'slow-refusal',
        chat: refuse,
        stream: refuse,
        embed: refuse,
      }),
    };
    const gateway = make({
      plugins: [
        {
          name: 'slow-refusal',
          apply: (hooks) =>
            hooks.registerProviders.tap('slow-refusal', (registry) => registry.register(factory)),
        },
      ],
      providers: [{ name: 'slow', type: 'slow-refusal' }],
      models: [{ name: 'gpt', targets: [{ provider: 'slow', model: 'v' }] }],
    });
    const seen = watch(gateway);
    await expect(gateway.chat(hello)).rejects.toMatchObject({ code: 'upstream_bad_request' });
    await expect(gateway.stream(hello)).rejects.toMatchObject({ code: 'upstream_bad_request' });
    await expect(gateway.embed({ model: 'gpt', input: 'hi' })).rejects.toMatchObject({
      code: 'upstream_bad_request',
    });
    expect(seen.ends).toHaveLength(3);
    for (const ended of seen.ends) expect(ended.upstreamMs).toBeGreaterThanOrEqual(UPSTREAM_PAUSE_MS - 10);
  });

  it('runs to the failure of a stream that fails mid-way', async () => {
    const UPSTREAM_PAUSE_MS = 60;
    const gateway = withAdapterStream(async function* () {
      yield { ...base, choices: [{ index: 0, delta: { content: 'a' }, finish_reason: null }] };
      await new Promise((resolve) => setTimeout(resolve, UPSTREAM_PAUSE_MS));
      throw new SwitchyardError('upstream_stream_error', 'cut');
    });
    const seen = watch(gateway);
    await expect(
      (async () => {
        for await (const _chunk of await gateway.stream(hello)) {
          // read until it fails
        }
      })(),
    ).rejects.toMatchObject({ code: 'upstream_stream_error' });
    expect(seen.ends[0]?.upstreamMs).toBeGreaterThanOrEqual(UPSTREAM_PAUSE_MS - 10);
  });
});
