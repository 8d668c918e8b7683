import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { UpstreamResponse } from '../http/upstream-request';
import { AnthropicStreamMapper } from '../providers/anthropic/from-anthropic-stream';
import {
  PROVIDER_CONTRACT_VERSION,
  type ProviderAdapter,
  type ProviderCallContext,
  type ProviderFactory,
} from '../providers/provider-adapter';
import { callCancellation } from '../providers/provider-call-cancellation';
import { mapUpstreamStream } from '../stream/map-upstream-stream';
import { readSse } from '../stream/read-sse';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../wire/openai-chat';
import { createGateway, type Gateway } from './create-gateway';
import type { GatewayOptions } from './gateway-options';

const hello: ChatCompletionRequest = { model: 'm', messages: [{ role: 'user', content: 'Hello!' }] };

function chunk(
  delta: ChatCompletionChunk['choices'][number]['delta'],
  finish: 'stop' | null = null,
): ChatCompletionChunk {
  return {
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'v',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

/** A gateway whose provider `up` is a plugin adapter making its calls with `calls`; alias `m` goes to it. */
function pluginGateway(
  calls: Pick<ProviderAdapter, 'chat' | 'stream'>,
  options: Partial<GatewayOptions> = {},
): Gateway {
  const factory: ProviderFactory = {
    type: 'plugin',
    create: ({ name }) => ({ contractVersion: PROVIDER_CONTRACT_VERSION, name, type: 'plugin', ...calls }),
  };
  return createGateway({
    plugins: [
      {
        name: 'p',
        apply: (hooks) => hooks.registerProviders.tap('p', (registry) => registry.register(factory)),
      },
    ],
    providers: [{ name: 'up', type: 'plugin' }],
    models: [{ name: 'm', targets: [{ provider: 'up', model: 'v' }] }],
    ...options,
  });
}

/** A gateway with one plugin provider whose stream is `open`'s. */
function gatewayOf(
  open: (context: ProviderCallContext) => AsyncIterable<ChatCompletionChunk>,
  options: Partial<GatewayOptions> = {},
): Gateway {
  return pluginGateway(
    {
      chat: () => Promise.reject(new Error('unused')),
      stream: (_request, context) => Promise.resolve(open(context)),
    },
    options,
  );
}

const sse = (type: string, data: object): Buffer =>
  Buffer.from(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);

/** Waits `ms`; fails when `signal` aborts first, as a read of undici's body does. */
function wait(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = (): void => {
      clearTimeout(timeout);
      reject(signal.reason as Error);
    };
    const timeout = setTimeout(() => {
      signal.removeEventListener('abort', abort);
      resolve();
    }, ms);
    signal.addEventListener('abort', abort, { once: true });
  });
}

/**
 * An Anthropic body, read through mapUpstreamStream as the built-in adapter reads it: an
 * optional opening text, then `thinkingMs` of thinking deltas and pings every 20 ms (none maps
 * to a chunk), then the answer.
 */
async function* anthropicBody(
  signal: AbortSignal,
  opening: boolean,
  thinkingMs: number,
): AsyncGenerator<Buffer> {
  yield sse('message_start', {
    message: { id: 'msg', model: 'claude', usage: { input_tokens: 10, output_tokens: 1 } },
  });
  if (opening) {
    yield sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    yield sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Let me think.' } });
    yield sse('content_block_stop', { index: 0 });
  }
  yield sse('content_block_start', { index: 1, content_block: { type: 'thinking', thinking: '' } });
  for (let elapsed = 0; elapsed < thinkingMs; elapsed += 20) {
    await wait(signal, 20);
    yield elapsed % 100 === 0
      ? sse('ping', {})
      : sse('content_block_delta', { index: 1, delta: { type: 'thinking_delta', thinking: 'hmm ' } });
  }
  yield sse('content_block_stop', { index: 1 });
  yield sse('content_block_start', { index: 2, content_block: { type: 'text', text: '' } });
  yield sse('content_block_delta', { index: 2, delta: { type: 'text_delta', text: 'Answer' } });
  yield sse('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 90 } });
  yield sse('message_stop', {});
}

function anthropicStream(
  context: ProviderCallContext,
  body: AsyncIterable<Buffer>,
): AsyncIterable<ChatCompletionChunk> {
  const response = { status: 200, headers: {}, body } as unknown as UpstreamResponse;
  return mapUpstreamStream(
    response,
    'up',
    callCancellation(context),
    readSse,
    new AnthropicStreamMapper('up', context.model),
  );
}

/** The error codes of the requests that ended, as they end. */
function endsOf(gateway: Gateway): Array<string | undefined> {
  const ended: Array<string | undefined> = [];
  gateway.hooks.onRequestEnd.tap('test', (context) => {
    ended.push(context.error?.code);
  });
  return ended;
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const received of stream) text += received.choices[0]?.delta.content ?? '';
  return text;
}

/** Whether `promise` settled, and how, once the timers reached `ms` from now. */
async function settledAfter(
  promise: Promise<unknown>,
  ms: number,
): Promise<{ settled: boolean; code?: string }> {
  const outcome: { settled: boolean; code?: string } = { settled: false };
  promise.then(
    () => (outcome.settled = true),
    (error: { code?: string }) => Object.assign(outcome, { settled: true, code: error.code }),
  );
  await vi.advanceTimersByTimeAsync(ms);
  return outcome;
}

describe('stream timeouts count upstream activity, not delivered chunks', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps a stream whose upstream thinks and pings for longer than the idle timeout', async () => {
    const gateway = gatewayOf(
      (context) => anthropicStream(context, anthropicBody(context.signal, true, 600)),
      { streamIdleTimeoutMs: 200 },
    );
    const stream = await gateway.stream(hello);
    const text = collect(stream);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(text).resolves.toBe('Let me think.Answer');
    await gateway.close();
  });

  it('keeps an attempt whose upstream thinks for longer than the attempt timeout before its first content, in one attempt', async () => {
    let attempts = 0;
    const gateway = gatewayOf(
      (context) => {
        attempts += 1;
        return anthropicStream(context, anthropicBody(context.signal, false, 600));
      },
      { attemptTimeoutMs: 200 },
    );
    const opened = gateway.stream(hello);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(collect(await opened)).resolves.toBe('Answer');
    expect(attempts).toBe(1);
    await gateway.close();
  });

  it('still fails an attempt whose upstream answered and then went quiet for the attempt timeout before its first content', async () => {
    const gateway = gatewayOf(
      (context) =>
        anthropicStream(
          context,
          (async function* () {
            yield sse('message_start', {
              message: { id: 'msg', model: 'claude', usage: { input_tokens: 10, output_tokens: 1 } },
            });
            await wait(context.signal, 60_000);
          })(),
        ),
      { attemptTimeoutMs: 200, retry: { maxRetries: 0 } },
    );
    const opened = gateway.stream(hello);
    expect(await settledAfter(opened, 199)).toEqual({ settled: false });
    expect(await settledAfter(opened, 1)).toEqual({ settled: true, code: 'upstream_timeout' });
    await gateway.close();
  });
});

describe('stream timeouts and aborts end a plugin stream that ignores the signal', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function* stallsAfterOneChunk(): AsyncGenerator<ChatCompletionChunk> {
    yield chunk({ content: 'a' });
    await new Promise(() => undefined);
  }

  it('ends a stalled read at the idle timeout, and the request with it', async () => {
    const gateway = gatewayOf(stallsAfterOneChunk, { streamIdleTimeoutMs: 50 });
    const ended = endsOf(gateway);
    const reader = (await gateway.stream(hello))[Symbol.asyncIterator]();
    expect((await reader.next()).value).toMatchObject({ choices: [{ delta: { content: 'a' } }] });
    const next = reader.next();
    expect(await settledAfter(next, 49)).toEqual({ settled: false });
    expect(await settledAfter(next, 1)).toEqual({ settled: true, code: 'upstream_timeout' });
    await vi.advanceTimersByTimeAsync(0);
    expect(ended).toEqual(['upstream_timeout']);
    await gateway.close();
  });

  it('ends a stalled read when the client aborts, and the request with it', async () => {
    const gateway = gatewayOf(stallsAfterOneChunk, { streamIdleTimeoutMs: 60_000 });
    const ended = endsOf(gateway);
    const client = new AbortController();
    const reader = (await gateway.stream(hello, { signal: client.signal }))[Symbol.asyncIterator]();
    await reader.next();
    const next = reader.next();
    expect(await settledAfter(next, 100)).toEqual({ settled: false });
    client.abort();
    expect(await settledAfter(next, 0)).toEqual({ settled: true, code: 'client_closed_request' });
    await vi.advanceTimersByTimeAsync(0);
    expect(ended).toEqual(['client_closed_request']);
    await gateway.close();
  });

  it("counts a stream stalled past the idle timeout against its target's breaker, and one its client left not", async () => {
    const breaker = { volumeThreshold: 1, errorThresholdPercentage: 1 };
    const stalled = gatewayOf(stallsAfterOneChunk, { streamIdleTimeoutMs: 50, breaker });
    const reader = (await stalled.stream(hello))[Symbol.asyncIterator]();
    await reader.next();
    const next = reader.next();
    expect(await settledAfter(next, 50)).toEqual({ settled: true, code: 'upstream_timeout' });
    await vi.advanceTimersByTimeAsync(0);
    expect(Object.values(stalled.stats().breakers)).toEqual(['open']);
    await stalled.close();

    const left = gatewayOf(stallsAfterOneChunk, { streamIdleTimeoutMs: 60_000, breaker });
    const client = new AbortController();
    const read = (await left.stream(hello, { signal: client.signal }))[Symbol.asyncIterator]();
    await read.next();
    const pending = read.next();
    client.abort();
    expect(await settledAfter(pending, 0)).toEqual({ settled: true, code: 'client_closed_request' });
    await vi.advanceTimersByTimeAsync(0);
    expect(Object.values(left.stats().breakers)).toEqual(['closed']);
    await left.close();
  });

  it('ends an attempt stalled before its first chunk at the attempt timeout', async () => {
    const gateway = gatewayOf(
      async function* () {
        await new Promise(() => undefined);
        yield chunk({ content: 'never' });
      },
      { attemptTimeoutMs: 50, retry: { maxRetries: 0 } },
    );
    const ended = endsOf(gateway);
    const opened = gateway.stream(hello);
    expect(await settledAfter(opened, 50)).toEqual({ settled: true, code: 'upstream_timeout' });
    expect(ended).toEqual(['upstream_timeout']);
    await gateway.close();
  });

  it('does not go on without its idle timeout when a read settles as the timeout fires', async () => {
    const gateway = gatewayOf(
      (context) =>
        (async function* () {
          yield chunk({ content: 'a' });
          // the read settles only because of the abort, in the same turn
          yield await new Promise<ChatCompletionChunk>((resolve) =>
            context.signal.addEventListener('abort', () => resolve(chunk({ content: 'late' }))),
          );
          await new Promise(() => undefined);
        })(),
      { streamIdleTimeoutMs: 50 },
    );
    const reader = (await gateway.stream(hello))[Symbol.asyncIterator]();
    await reader.next();
    expect(await settledAfter(reader.next(), 50)).toEqual({ settled: true, code: 'upstream_timeout' });
    await gateway.close();
  });
});

describe('a plugin adapter whose call ignores the abort and never settles', () => {
  // real timers: the limiter (bottleneck) schedules on its own clock; each test ends by the
  // gateway's own deadlines (tens of ms), and hangs until the test's timeout if one is not kept
  const never = (): Promise<never> => new Promise(() => undefined);

  /** A gateway whose alias `m` goes to a plugin adapter that never answers (`up`), then to the mock provider. */
  function hangingFirst(options: Partial<GatewayOptions> = {}): {
    gateway: Gateway;
    attempts: Array<[string, string | undefined]>;
  } {
    const gateway = pluginGateway(
      { chat: never, stream: never },
      {
        providers: [
          { name: 'up', type: 'plugin' },
          { name: 'backup', type: 'mock' },
        ],
        models: [
          {
            name: 'm',
            strategy: 'ordered',
            targets: [
              { provider: 'up', model: 'v', limits: { maxConcurrent: 1 } },
              { provider: 'backup', model: 'mock-1' },
            ],
          },
        ],
        attemptTimeoutMs: 30,
        retry: { maxRetries: 0 },
        ...options,
      },
    );
    const attempts: Array<[string, string | undefined]> = [];
    gateway.hooks.onAttempt.tap('test', (record) => {
      attempts.push([record.provider, record.error?.code]);
    });
    return { gateway, attempts };
  }

  it('gives the attempt up at the attempt timeout, and the request falls back to the next target (chat)', async () => {
    const { gateway, attempts } = hangingFirst();
    const answer = await gateway.chat(hello);
    expect(answer.choices[0]?.message.content).toEqual(expect.any(String));
    expect(attempts).toEqual([
      ['up', 'upstream_timeout'],
      ['backup', undefined],
    ]);
    await gateway.close();
  });

  it('gives the attempt up at the attempt timeout, and the stream comes from the next target', async () => {
    const { gateway, attempts } = hangingFirst();
    expect((await collect(await gateway.stream(hello))).length).toBeGreaterThan(0);
    expect(attempts).toEqual([
      ['up', 'upstream_timeout'],
      ['backup', undefined],
    ]);
    await gateway.close();
  });

  it('ends at the request deadline and at a client abort, and gives its limiter slot back each time', async () => {
    // the only target, one call at a time: a slot kept by a call that never settled would
    // queue every later request for good
    const { gateway } = hangingFirst({
      models: [{ name: 'm', targets: [{ provider: 'up', model: 'v', limits: { maxConcurrent: 1 } }] }],
      attemptTimeoutMs: 60_000,
      requestTimeoutMs: 200,
    });
    await expect(gateway.chat(hello)).rejects.toMatchObject({ code: 'request_timeout' });
    const client = new AbortController();
    // the client leaves once the call is made (the hook runs just before it)
    gateway.hooks.beforeAttempt.tap('abort', () => {
      setImmediate(() => client.abort());
    });
    await expect(gateway.chat(hello, { signal: client.signal })).rejects.toMatchObject({
      code: 'client_closed_request',
    });
    await expect(gateway.stream(hello)).rejects.toMatchObject({ code: 'request_timeout' });
    await gateway.close();
  });
});
