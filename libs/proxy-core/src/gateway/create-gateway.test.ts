import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import { useGatewayFixture } from '../../test/support/gateway-fixture';
import { collect } from '../../test/support/provider-test-kit';
import { SwitchyardError } from '../errors/switchyard-error';
import type { GatewayPlugin } from '../hooks/gateway-hooks';
import { PROVIDER_CONTRACT_VERSION, type ProviderFactory } from '../providers/provider-adapter';
import { contentText } from '../wire/chat-message-parts';
import type { ChatCompletionChunk, ChatCompletionRequest } from '../wire/openai-chat';
import { createGateway, type Gateway } from './create-gateway';
import { GATEWAY_DEFAULTS, type GatewayOptions } from './gateway-options';
import { MAX_TIMER_MS } from '../options/max-timer';
import type { ModelCatalog } from '../catalog/model-catalog';
import { createRequestContext, type RequestContext } from './request-context';
import { isEngineGateway, isEngineStream, sourceTextOf } from '../stream/chunk-source-text';
import { engineStreamReads } from '../stream/chunk-reads';

const fixture = useGatewayFixture();
const hello: ChatCompletionRequest = { model: 'gpt', messages: [{ role: 'user', content: 'Hello!' }] };

function make(options: Partial<GatewayOptions> = {}): Gateway {
  const gateway = createGateway({
    providers: [
      {
        name: 'primary',
        type: 'openai',
        baseUrl: `${fixture.upstream.url}/v1`,
        apiKey: 'sk-primary-0000000000',
      },
      { name: 'backup', type: 'openai', baseUrl: `${fixture.upstream.url}/backup/v1` },
      { name: 'mock', type: 'mock' },
    ],
    models: [
      {
        name: 'gpt',
        strategy: 'ordered',
        targets: [
          { provider: 'primary', model: 'gpt-4o-mini' },
          { provider: 'backup', model: 'gpt-4o-mini' },
        ],
      },
      { name: 'solo', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }], fallbacks: ['demo'] },
      { name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] },
    ],
    ...options,
  });
  return fixture.track(gateway);
}

describe('createGateway', () => {
  it('routes an alias to its first target and records the attempt', async () => {
    const context = createRequestContext();
    const response = await make().chat(hello, { context });
    expect(response.choices[0]?.message.content).toContain('Hello there');
    expect(context).toMatchObject({
      provider: 'primary',
      upstreamModel: 'gpt-4o-mini',
      requestedModel: 'gpt',
    });
    expect(context.attempts).toHaveLength(1);
    expect(context.usage?.total_tokens).toBe(29);
  });

  it('addresses <provider>/<model> directly', async () => {
    const response = await make().chat({ ...hello, model: 'mock/anything' });
    expect(response.model).toBe('anything');
    expect(response.choices[0]?.message.content).toContain('You said: Hello!');
  });

  it('marks a direct <provider>/<model> route as direct (its alias is the client string), and a configured alias as not', async () => {
    const gateway = make();
    const direct = createRequestContext();
    await gateway.chat({ ...hello, model: 'mock/anything' }, { context: direct });
    expect(direct.route).toMatchObject({ alias: 'mock/anything', direct: true });
    const configured = createRequestContext();
    await gateway.chat({ ...hello, model: 'demo' }, { context: configured });
    expect(configured.route?.alias).toBe('demo');
    expect(configured.route?.direct).toBeUndefined();
  });

  it("says on switchyard:breaker:state whether the target is a configured route's or one a client named", async () => {
    const messages: unknown[] = [];
    const listen = (message: unknown): void => void messages.push(message);
    subscribe('switchyard:breaker:state', listen);
    try {
      fixture.upstream.fault({ kind: 'status', status: 500 });
      const gateway = make({
        retry: { maxRetries: 0 },
        breaker: { volumeThreshold: 1, errorThresholdPercentage: 1 },
      });
      await expect(gateway.chat({ ...hello, model: 'primary/gpt-4o-mini' })).rejects.toMatchObject({
        code: 'upstream_error',
      });
      await expect(gateway.chat({ ...hello, model: 'primary/client-named' })).rejects.toMatchObject({
        code: 'upstream_error',
      });
      // each names the gateway it came from by its hooks
      const source = gateway.hooks;
      expect(messages).toEqual([
        { target: 'primary/gpt-4o-mini', state: 'open', previous: 'closed', configured: true, source },
        { target: 'primary/client-named', state: 'open', previous: 'closed', configured: false, source },
      ]);
      expect(messages.every((message) => (message as { source: unknown }).source === source)).toBe(true);
    } finally {
      unsubscribe('switchyard:breaker:state', listen);
    }
  });

  it('records whether each attempt called its upstream: not one its open circuit refused', async () => {
    fixture.upstream.fault({ kind: 'status', status: 500 });
    const gateway = make({
      retry: { maxRetries: 0 },
      breaker: { volumeThreshold: 1, errorThresholdPercentage: 1 },
      models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'm' }] }],
    });
    const first = createRequestContext();
    await expect(gateway.chat(hello, { context: first })).rejects.toMatchObject({ code: 'upstream_error' });
    expect(first.attempts.map((attempt) => attempt.called)).toEqual([true]);
    const second = createRequestContext();
    await expect(gateway.chat(hello, { context: second })).rejects.toMatchObject({ code: 'circuit_open' });
    expect(second.attempts.map((attempt) => attempt.called)).toEqual([false]);
  });

  it('refuses <provider>/<model> when direct addressing is off', async () => {
    await expect(
      make({ allowDirectModels: false }).chat({ ...hello, model: 'mock/x' }),
    ).rejects.toMatchObject({ code: 'model_not_found', status: 404 });
  });

  it('answers model_not_found for an unknown model', async () => {
    await expect(make().chat({ ...hello, model: 'nope' })).rejects.toMatchObject({
      code: 'model_not_found',
      param: 'model',
    });
  });

  it('falls over to the next target on a retryable upstream error', async () => {
    fixture.upstream.fault({ kind: 'status', status: 503, times: 1 });
    const context = createRequestContext();
    await make().chat(hello, { context });
    expect(context.attempts.map((a) => [a.provider, a.ok])).toEqual([
      ['primary', false],
      ['backup', true],
    ]);
    expect(context.attempts[0]?.error?.code).toBe('upstream_unavailable');
    expect(fixture.upstream.requests.map((r) => r.path)).toEqual([
      '/v1/chat/completions',
      '/backup/v1/chat/completions',
    ]);
  });

  it('attributes a request every attempt of which failed to the last target tried, not to no provider', async () => {
    fixture.upstream.fault({ kind: 'status', status: 400, times: 1 });
    const context = createRequestContext();
    await expect(make().chat(hello, { context })).rejects.toMatchObject({ code: 'upstream_bad_request' });
    expect(context.attempts.map((a) => [a.provider, a.ok])).toEqual([['primary', false]]);
    expect({ provider: context.provider, model: context.upstreamModel }).toEqual({
      provider: 'primary',
      model: context.attempts[0]?.model,
    });
    // a later target that only could not take the request does not take the blame for the failure
    const failing = (name: string, error: SwitchyardError): ProviderFactory => ({
      type: name,
      create: ({ name: instance }) => ({
        contractVersion: PROVIDER_CONTRACT_VERSION,
        name: instance,
        type: name,
        chat: () => Promise.reject(error),
        stream: () => Promise.reject(error),
      }),
    });
    const scripted = createGateway({
      plugins: [
        {
          name: 'scripted',
          apply: (hooks) =>
            hooks.registerProviders.tap('scripted', (registry) => {
              registry.register(failing('broken', new SwitchyardError('upstream_error', 'a failed')));
              registry.register(failing('limited', new SwitchyardError('unsupported_feature', 'b cannot')));
            }),
        },
      ],
      providers: [
        { name: 'a', type: 'broken' },
        { name: 'b', type: 'limited' },
      ],
      models: [
        {
          name: 'ab',
          targets: [
            { provider: 'a', model: 'ma' },
            { provider: 'b', model: 'mb' },
          ],
          strategy: 'ordered',
        },
      ],
      retry: { maxRetries: 0 },
    });
    const blamed = createRequestContext();
    await expect(scripted.chat({ ...hello, model: 'ab' }, { context: blamed })).rejects.toMatchObject({
      code: 'upstream_error',
    });
    expect(blamed.attempts.map((attempt) => [attempt.provider, attempt.error?.code])).toEqual([
      ['a', 'upstream_error'],
      ['b', 'unsupported_feature'],
    ]);
    expect({ provider: blamed.provider, model: blamed.upstreamModel }).toEqual({
      provider: 'a',
      model: 'ma',
    });
    await scripted.close();
    // refused before any attempt: still no provider
    const unknown = createRequestContext();
    await expect(make().chat({ ...hello, model: 'nope' }, { context: unknown })).rejects.toMatchObject({
      code: 'model_not_found',
    });
    expect(unknown.provider).toBeUndefined();
  });

  it('does not retry a non-retryable upstream error', async () => {
    fixture.upstream.fault({ kind: 'status', status: 400, times: 1 });
    await expect(make().chat(hello)).rejects.toMatchObject({ code: 'upstream_bad_request' });
    expect(fixture.upstream.requests).toHaveLength(1);
  });

  it('does not retry a target whose credentials were rejected, but tries the next target', async () => {
    fixture.upstream.fault({ kind: 'status', status: 401, times: 1, match: { path: '/v1/chat' } });
    const solo = make({ models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'm' }] }] });
    const context = createRequestContext({ requestId: 'auth-no-retry' });
    await expect(solo.chat(hello, { context })).rejects.toMatchObject({
      code: 'upstream_auth_error',
      status: 502,
    });
    expect(context.attempts).toHaveLength(1);
    fixture.upstream.fault({ kind: 'status', status: 401, times: 1, match: { path: '/v1/chat' } });
    const both = createRequestContext({ requestId: 'auth-next-target' });
    await make().chat(hello, { context: both });
    expect(both.attempts.map((a) => [a.provider, a.ok])).toEqual([
      ['primary', false],
      ['backup', true],
    ]);
  });

  it('falls back to another alias when every target failed', async () => {
    fixture.upstream.fault({ kind: 'status', status: 500 });
    const context = createRequestContext();
    const response = await make().chat({ ...hello, model: 'solo' }, { context });
    expect(context.provider).toBe('mock');
    expect(context.attempts.map((a) => a.alias)).toEqual(['solo', 'demo']);
    expect(response.choices[0]?.message.content).toContain('mock provider');
  });

  it('fails over a stream that errors before any content, and strips usage the client did not ask for', async () => {
    fixture.upstream.fault({ kind: 'stream-error', afterChunks: 1, times: 1 });
    const context = createRequestContext();
    const chunks = await collect(await make().stream(hello, { context }));
    expect(context.attempts.map((a) => a.ok)).toEqual([false, true]);
    expect(chunks.every((c) => c.usage === undefined)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toContain('Hello there');
    expect(context.usage?.total_tokens).toBe(29);
    expect(context.firstTokenMs).toBeGreaterThan(0);
  });

  it('keeps the usage chunk when the client asked for it', async () => {
    const chunks = await collect(await make().stream({ ...hello, stream_options: { include_usage: true } }));
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 29 } });
  });

  it("gives the engine stream's chunks a read at a time to the first reader that asks, the same chunks as one by one", async () => {
    const oneByOne = await collect(await make().stream(hello));
    const context = createRequestContext();
    const stream = await make().stream(hello, { context });
    const reads = engineStreamReads(stream);
    expect(reads).toBeDefined();
    // taken once: the stream is read through these reads only
    expect(engineStreamReads(stream)).toBeUndefined();
    const batches: Array<readonly ChatCompletionChunk[]> = [];
    for (let next = await reads!.next(); next.done !== true; next = await reads!.next())
      batches.push(next.value);
    expect(batches.every((batch) => batch.length > 0)).toBe(true);
    const strip = (chunk: ChatCompletionChunk): unknown => ({ ...chunk, id: '', created: 0 });
    expect(batches.flat().map(strip)).toEqual(oneByOne.map(strip));
    expect(context.usage?.total_tokens).toBe(29);
    expect(context.error).toBeUndefined();

    // none for a stream that began being read one by one, nor for any other stream
    const begun = await make().stream(hello);
    const iterator = begun[Symbol.asyncIterator]();
    await iterator.next();
    expect(engineStreamReads(begun)).toBeUndefined();
    await iterator.return?.();
    expect(engineStreamReads((async function* () {})())).toBeUndefined();
  });

  it('delivers the chunks before the one an onStreamChunk tap throws on, then fails the stream', async () => {
    const refuse: GatewayPlugin = {
      name: 'refuse',
      apply(hooks) {
        let seen = 0;
        hooks.onStreamChunk.tap('refuse', (chunk) => {
          if (++seen === 3) throw new SwitchyardError('invalid_request', 'refused');
          return chunk;
        });
      },
    };
    for (const read of ['one by one', 'a read at a time'] as const) {
      const stream = await make({ plugins: [refuse] }).stream(hello);
      const chunks: ChatCompletionChunk[] = [];
      const drain = async (): Promise<void> => {
        if (read === 'one by one') {
          for await (const chunk of stream) chunks.push(chunk);
          return;
        }
        const reads = engineStreamReads(stream)!;
        for (let next = await reads.next(); next.done !== true; next = await reads.next())
          chunks.push(...next.value);
      };
      await expect(drain()).rejects.toMatchObject({ code: 'invalid_request' });
      expect(chunks).toHaveLength(2);
    }
  });

  it('ends a stream whose reads are returned mid-stream as closed by its consumer, and cancels the upstream call', async () => {
    fixture.upstream.fault({ kind: 'stall-stream', afterChunks: 3 });
    const aborted = fixture.upstream.nextAbort();
    const context = createRequestContext();
    const reads = engineStreamReads(
      await make({ models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'm' }] }] }).stream(
        hello,
        { context },
      ),
    )!;
    expect((await reads.next()).done).toBe(false);
    await reads.return?.();
    expect(context.error?.code).toBe('client_closed_request');
    expect((await aborted).path).toBe('/v1/chat/completions');
  });

  it('ends a stream that breaks after content with an error, not a clean end', async () => {
    fixture.upstream.fault({ kind: 'stream-error', afterChunks: 4 });
    const stream = await make({
      models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'm' }] }],
    }).stream(hello);
    await expect(collect(stream)).rejects.toMatchObject({ code: 'upstream_stream_error' });
  });

  it("counts a stream that breaks after its first content against its target's breaker, which then sends streams to the fallback", async () => {
    const states: unknown[] = [];
    const listen = (message: unknown): void => void states.push((message as { state: unknown }).state);
    subscribe('switchyard:breaker:state', listen);
    try {
      fixture.upstream.fault({
        kind: 'stream-error',
        afterChunks: 4,
        times: 2,
        match: { path: '/v1/chat/completions' },
      });
      const gateway = make({ breaker: { volumeThreshold: 2, errorThresholdPercentage: 50 } });
      for (let i = 0; i < 2; i++) {
        const context = createRequestContext();
        // content came first, so neither a retry nor the fallback could take it over
        await expect(collect(await gateway.stream(hello, { context }))).rejects.toMatchObject({
          code: 'upstream_stream_error',
        });
        expect(context.provider).toBe('primary');
      }
      await vi.waitFor(() => expect(states).toEqual(['open']));
      const context = createRequestContext();
      const chunks = await collect(await gateway.stream(hello, { context }));
      expect(chunks.length).toBeGreaterThan(0);
      expect(context.provider).toBe('backup');
    } finally {
      unsubscribe('switchyard:breaker:state', listen);
    }
  });

  it('times out an attempt with upstream_timeout and the request with request_timeout', async () => {
    fixture.upstream.fault({ kind: 'hang' });
    const gateway = make({
      attemptTimeoutMs: 50,
      models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'm' }] }],
    });
    await expect(gateway.chat(hello)).rejects.toMatchObject({ code: 'upstream_timeout', status: 504 });
    const slow = make({
      requestTimeoutMs: 50,
      models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'm' }] }],
    });
    await expect(slow.chat(hello)).rejects.toMatchObject({ code: 'request_timeout', status: 504 });
  });

  it.each([false, true])(
    'ends a call whose own signal timed out with request_timeout, not counted against the target (stream: %s)',
    async (stream) => {
      fixture.upstream.fault(stream ? { kind: 'stall-stream', afterChunks: 2 } : { kind: 'hang' });
      const gateway = make({
        breaker: { volumeThreshold: 1, errorThresholdPercentage: 1 },
        models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'm' }] }],
      });
      const signal = AbortSignal.timeout(100);
      const call = stream ? gateway.stream(hello, { signal }).then(collect) : gateway.chat(hello, { signal });
      await expect(call).rejects.toMatchObject({ code: 'request_timeout', status: 504 });
      await new Promise((resolve) => setImmediate(resolve));
      // the caller's deadline says nothing of the target: its circuit stays closed
      expect(gateway.stats().breakers['primary/m']).toBe('closed');
    },
  );

  it('refuses a timer option past MAX_TIMER_MS, which Node would fire after 1 ms (every request timed out at once), saying why', () => {
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
    const tooLong = 3_000_000_000;
    let error: SwitchyardError | undefined;
    try {
      make({
        requestTimeoutMs: tooLong,
        attemptTimeoutMs: tooLong,
        streamIdleTimeoutMs: tooLong,
        retry: { baseDelayMs: tooLong, maxDelayMs: tooLong },
        breaker: { rollingWindowMs: tooLong, rollingBuckets: 1, resetTimeoutMs: tooLong },
        limiter: { maxWaitMs: tooLong, redis: { url: 'redis://127.0.0.1:6379', commandTimeoutMs: tooLong } },
      });
    } catch (caught) {
      error = caught as SwitchyardError;
    }
    expect(error?.code).toBe('invalid_options');
    const why = `${tooLong} ms is above 2147483647 ms (about 24.8 days), the longest a Node.js timer waits: a longer delay would fire after 1 ms`;
    for (const path of [
      '/requestTimeoutMs',
      '/attemptTimeoutMs',
      '/streamIdleTimeoutMs',
      '/retry/baseDelayMs',
      '/retry/maxDelayMs',
      '/breaker/rollingWindowMs',
      '/breaker/resetTimeoutMs',
      '/limiter/maxWaitMs',
      '/limiter/redis/commandTimeoutMs',
    ]) {
      expect(error?.message).toContain(`${path}: ${why}`);
    }
    // the longest timer there is stays allowed
    expect(
      make({
        requestTimeoutMs: MAX_TIMER_MS,
        attemptTimeoutMs: MAX_TIMER_MS,
        streamIdleTimeoutMs: MAX_TIMER_MS,
      }).timeouts.requestTimeoutMs,
    ).toBe(MAX_TIMER_MS);
  });

  it('exposes its resolved timeouts read-only: the options given, the defaults for the rest', () => {
    const gateway = make({ requestTimeoutMs: 3_600_000, streamIdleTimeoutMs: 45_000 });
    expect(gateway.timeouts).toEqual({
      requestTimeoutMs: 3_600_000,
      attemptTimeoutMs: GATEWAY_DEFAULTS.attemptTimeoutMs,
      streamIdleTimeoutMs: 45_000,
    });
    expect(Object.isFrozen(gateway.timeouts)).toBe(true);
    expect(make().timeouts).toEqual({
      requestTimeoutMs: GATEWAY_DEFAULTS.requestTimeoutMs,
      attemptTimeoutMs: GATEWAY_DEFAULTS.attemptTimeoutMs,
      streamIdleTimeoutMs: GATEWAY_DEFAULTS.streamIdleTimeoutMs,
    });
  });

  it('exposes the model catalog it was created with, undefined without one', () => {
    const modelCatalog: ModelCatalog = { lookup: () => undefined, list: () => [] };
    expect(make({ modelCatalog }).modelCatalog).toBe(modelCatalog);
    expect(make().modelCatalog).toBeUndefined();
  });

  it('keeps the upstream text of a response nothing changed, and forgets it when an afterResponse tap may change it', async () => {
    const gateway = make();
    expect(isEngineGateway(gateway)).toBe(true);
    expect(isEngineGateway({ ...gateway })).toBe(false);
    const plain = await gateway.chat(hello);
    expect(JSON.parse(sourceTextOf(plain) ?? 'null')).toEqual(plain);

    const delivered: unknown[] = [];
    const observed = make({
      plugins: [
        {
          name: 'watch',
          apply: (hooks) => hooks.onResponseDelivered.tap('watch', (response) => delivered.push(response)),
        },
      ],
    });
    const watched = await observed.chat(hello);
    expect(delivered).toEqual([watched]);
    expect(sourceTextOf(watched)).toBeDefined();

    const tapped = make();
    tapped.hooks.afterResponse.tap('look', (response) => response);
    tapped.hooks.onResponseDelivered.tap('watch', (response) => delivered.push(response));
    const looked = await tapped.chat(hello);
    expect(sourceTextOf(looked)).toBeUndefined();
    expect(delivered.at(-1)).toBe(looked);
  });

  it("fails a request whose answer the caller cannot deliver (assertDeliverable) before it ends, with the caller's error and the usage the upstream billed", async () => {
    const seen: string[] = [];
    const watch: GatewayPlugin = {
      name: 'watch',
      apply(hooks) {
        hooks.afterResponse.tap('shout', (response) => ({ ...response, model: 'changed' }));
        hooks.onResponseDelivered.tap('watch', () => void seen.push('delivered'));
        hooks.onUsage.tap('watch', (report) => void seen.push(`usage ${report.usage.total_tokens}`));
        hooks.onError.tap('watch', (error) => void seen.push(`error ${error.code}`));
        hooks.onRequestEnd.tap('watch', (context) => void seen.push(`end ${context.error?.status ?? 200}`));
      },
    };
    const gateway = make({ plugins: [watch] });
    const refusal = new SwitchyardError('upstream_error', 'The caller cannot send this answer.');
    const checked: string[] = [];
    const context = createRequestContext();
    context.assertDeliverable = (response) => {
      checked.push(response.model);
      throw refusal;
    };
    await expect(gateway.chat(hello, { context })).rejects.toBe(refusal);
    // asked once, with the answer as the transforms left it; the request ends with the refusal, once
    expect(checked).toEqual(['changed']);
    expect(seen).toEqual(['usage 29', 'error upstream_error', 'end 502']);
    expect(context).toMatchObject({ error: refusal, provider: 'primary', usage: { total_tokens: 29 } });
    expect(fixture.upstream.requests).toHaveLength(1);

    // a check that passes changes nothing
    seen.length = 0;
    const delivered = createRequestContext();
    delivered.assertDeliverable = () => undefined;
    expect((await gateway.chat(hello, { context: delivered })).model).toBe('changed');
    expect(seen).toEqual(['delivered', 'usage 29', 'end 200']);
    expect(delivered.error).toBeUndefined();
  });

  it('reports the usage of an answer an afterResponse tap refuses: the upstream billed it', async () => {
    const seen: string[] = [];
    const refusal = new SwitchyardError('invalid_request', 'Refused by policy.');
    const policy: GatewayPlugin = {
      name: 'policy',
      apply(hooks) {
        hooks.afterResponse.tapPromise('refuse', () => Promise.reject(refusal));
        hooks.onResponseDelivered.tap('watch', () => void seen.push('delivered'));
        hooks.onUsage.tap(
          'watch',
          (report) => void seen.push(`usage ${report.usage.total_tokens} ${report.provider}`),
        );
        hooks.onError.tap('watch', (error) => void seen.push(`error ${error.code}`));
      },
    };
    const gateway = make({ plugins: [policy] });
    const context = createRequestContext();
    await expect(gateway.chat(hello, { context })).rejects.toBe(refusal);
    expect(seen).toEqual(['usage 29 primary', 'error invalid_request']);
    expect(context).toMatchObject({ error: refusal, usage: { total_tokens: 29 } });

    // refused before any answer: nothing was used, nothing is reported
    seen.length = 0;
    const early = make({ plugins: [policy] });
    early.hooks.beforeRequest.tap('refuse', () => {
      throw refusal;
    });
    await expect(early.chat(hello)).rejects.toBe(refusal);
    expect(seen).toEqual(['error invalid_request']);
  });

  it('gives the received observers the answer before the transforms, its text and the usage chunk a client does not see, and keeps the text', async () => {
    const texts: Array<string | undefined> = [];
    const watch: GatewayPlugin = {
      name: 'watch',
      apply(hooks) {
        hooks.onResponseReceived.tap('watch', (response) => void texts.push(sourceTextOf(response)));
        hooks.onStreamChunkReceived.tap('watch', (chunk) => void texts.push(sourceTextOf(chunk)));
      },
    };
    const observed = make({ plugins: [watch] });
    const whole = await observed.chat(hello);
    expect(sourceTextOf(whole)).toBeDefined();
    expect(texts).toEqual([sourceTextOf(whole)]);

    texts.length = 0;
    const stream = await observed.stream(hello);
    expect(isEngineStream(stream)).toBe(true);
    const chunks = await collect(stream);
    expect(chunks.map((chunk) => sourceTextOf(chunk) !== undefined)).toEqual(chunks.map(() => true));
    expect(texts.slice(0, chunks.length)).toEqual(chunks.map((chunk) => sourceTextOf(chunk)));
    // the engine asked upstream for usage; this client did not, so only the observer saw it
    expect(texts).toHaveLength(chunks.length + 1);
    expect(JSON.parse(texts.at(-1) ?? 'null')).toMatchObject({ choices: [], usage: { total_tokens: 29 } });
  });

  it('calls the received observers before the transforms change the answer in place', async () => {
    const seen: string[] = [];
    const gateway = make({
      plugins: [
        {
          name: 'shout',
          apply(hooks) {
            hooks.afterResponse.tap('shout', (response) => {
              for (const choice of response.choices)
                choice.message.content = contentText(choice.message.content).toUpperCase();
              return response;
            });
            hooks.onStreamChunk.tap('shout', (chunk) => {
              for (const choice of chunk.choices)
                if (choice.delta.content) choice.delta.content = choice.delta.content.toUpperCase();
              return chunk;
            });
          },
        },
        {
          name: 'watch',
          apply(hooks) {
            hooks.onResponseReceived.tap(
              'watch',
              (response) => void seen.push(contentText(response.choices[0]?.message.content)),
            );
            hooks.onStreamChunkReceived.tap(
              'watch',
              (chunk) => void seen.push(chunk.choices[0]?.delta.content ?? ''),
            );
          },
        },
      ],
    });
    const whole = await gateway.chat(hello);
    expect(sourceTextOf(whole)).toBeUndefined();
    const content = contentText(whole.choices[0]?.message.content);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.toUpperCase()).toBe(content);
    expect(seen[0]).not.toBe(content);

    seen.length = 0;
    const chunks = await collect(await gateway.stream(hello));
    const delivered = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(delivered).toBe(seen.join('').toUpperCase());
    expect(seen.join('')).not.toBe(delivered);
  });

  it('calls every hook in order and onRequestEnd exactly once', async () => {
    const seen: string[] = [];
    const ends: RequestContext[] = [];
    const plugin: GatewayPlugin = {
      name: 'spy',
      apply(hooks) {
        hooks.beforeRequest.tapPromise('spy', async (request) => {
          seen.push('beforeRequest');
          return { ...request, temperature: 0 };
        });
        hooks.resolveRoute.tapPromise('spy', async () => {
          seen.push('resolveRoute');
          return undefined;
        });
        hooks.beforeAttempt.tapPromise('spy', async () => {
          seen.push('beforeAttempt');
        });
        hooks.onAttempt.tap('spy', () => seen.push('onAttempt'));
        hooks.afterResponse.tapPromise('spy', async (response) => {
          seen.push('afterResponse');
          return response;
        });
        hooks.onUsage.tap('spy', () => seen.push('onUsage'));
        hooks.onRequestEnd.tap('spy', (context) => ends.push(context));
      },
    };
    const context = createRequestContext({ requestId: 'hooks-order-test' });
    await make({ plugins: [plugin] }).chat(hello, { context });
    expect(seen).toEqual([
      'beforeRequest',
      'resolveRoute',
      'beforeAttempt',
      'onAttempt',
      'afterResponse',
      'onUsage',
    ]);
    expect(ends).toHaveLength(1);
    // found by id: a request timed out by an earlier test may still reach the upstream late
    const sent = fixture.upstream.requests.find((r) => r.headers['x-request-id'] === 'hooks-order-test');
    expect((sent?.body as { temperature: number }).temperature).toBe(0);
  });

  it('runs synchronous taps of the async hooks like promise taps: same values, and a throw refuses the attempt or fails the request', async () => {
    const gateway = make({ retry: { maxRetries: 0 } });
    gateway.hooks.beforeRequest.tap('temperature', (request) => ({ ...request, temperature: 0 }));
    gateway.hooks.afterResponse.tap('mark', (response) => ({ ...response, id: `marked-${response.id}` }));
    const refused: string[] = [];
    gateway.hooks.beforeAttempt.tap('refuse-primary', (plan) => {
      if (plan.target.provider !== 'primary') return;
      refused.push(plan.target.provider);
      throw new SwitchyardError('unsupported_feature', 'not this one');
    });
    const context = createRequestContext({ requestId: 'sync-taps-test' });
    const answer = await gateway.chat(hello, { context });
    expect(answer.id).toMatch(/^marked-/);
    expect(refused).toEqual(['primary']);
    expect(context.attempts.map((attempt) => [attempt.provider, attempt.ok])).toEqual([['backup', true]]);
    const sent = fixture.upstream.requests.find((r) => r.headers['x-request-id'] === 'sync-taps-test');
    expect((sent?.body as { temperature: number }).temperature).toBe(0);

    const failing = make();
    const errors: string[] = [];
    failing.hooks.beforeRequest.tap('refuse', () => {
      throw new SwitchyardError('invalid_request', 'refused by a tap');
    });
    failing.hooks.onError.tap('errors', (error) => errors.push(error.code));
    await expect(failing.chat(hello)).rejects.toMatchObject({
      code: 'invalid_request',
      message: 'refused by a tap',
    });
    await expect(failing.stream(hello)).rejects.toMatchObject({ code: 'invalid_request' });
    expect(errors).toEqual(['invalid_request', 'invalid_request']);
  });

  it('answers from lookupResponse without calling upstream', async () => {
    const plugin: GatewayPlugin = {
      name: 'cache',
      apply(hooks) {
        hooks.lookupResponse.tapPromise('cache', async () => ({
          kind: 'response',
          response: {
            id: 'c',
            object: 'chat.completion',
            created: 1,
            model: 'gpt',
            choices: [{ index: 0, message: { role: 'assistant', content: 'cached' }, finish_reason: 'stop' }],
          },
        }));
      },
    };
    const context = createRequestContext({ requestId: 'cache-hit-test' });
    const response = await make({ plugins: [plugin] }).chat(hello, { context });
    expect(response.choices[0]?.message.content).toBe('cached');
    expect(context.cacheHit).toBe(true);
    expect(context.attempts).toHaveLength(0);
    expect(
      fixture.upstream.requests.filter((r) => r.headers['x-request-id'] === 'cache-hit-test'),
    ).toHaveLength(0);
  });

  it("attributes a cache hit to its model's configured route, with no provider, no attempt and no resolveRoute tap", async () => {
    const cached = {
      id: 'c',
      object: 'chat.completion' as const,
      created: 1,
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: { role: 'assistant' as const, content: 'cached' },
          finish_reason: 'stop' as const,
        },
      ],
    };
    let routeTaps = 0;
    const plugin: GatewayPlugin = {
      name: 'cache',
      apply(hooks) {
        hooks.lookupResponse.tapPromise('cache', async (request) =>
          request.model === 'nowhere' || request.stream !== true
            ? { kind: 'response', response: { ...cached } }
            : { kind: 'stream', chunks: [] },
        );
        hooks.resolveRoute.tapPromise('count', async () => void (routeTaps += 1));
      },
    };
    const gateway = make({ plugins: [plugin] });
    const whole = createRequestContext();
    await gateway.chat(hello, { context: whole });
    const streamed = createRequestContext();
    for await (const _chunk of await gateway.stream(hello, { context: streamed })) break;
    for (const hit of [whole, streamed]) {
      expect(hit.cacheHit).toBe(true);
      expect(hit.route?.alias).toBe('gpt');
      expect(hit.provider).toBeUndefined();
      expect(hit.attempts).toHaveLength(0);
    }
    // a model the table does not route (a resolveRoute tap's, or one configured no more): no route
    const unrouted = createRequestContext();
    await gateway.chat({ ...hello, model: 'nowhere' }, { context: unrouted });
    expect(unrouted.cacheHit).toBe(true);
    expect(unrouted.route).toBeUndefined();
    expect(routeTaps).toBe(0);
  });

  it('isolates a throwing observer from the response', async () => {
    const plugin: GatewayPlugin = {
      name: 'broken',
      apply(hooks) {
        hooks.onUsage.tap('broken', () => {
          throw new Error('observer bug');
        });
      },
    };
    await expect(make({ plugins: [plugin] }).chat(hello)).resolves.toMatchObject({
      object: 'chat.completion',
    });
  });

  it('calls the taps after a throwing observer tap (the built-in ones, tapped later, were skipped: key slots, metrics, the request log)', async () => {
    const seen: string[] = [];
    const plugin: GatewayPlugin = {
      name: 'broken',
      apply(hooks) {
        hooks.onRequestEnd.tap('broken', () => {
          throw new Error('observer bug');
        });
        hooks.onRequestEnd.tap('after', (context) => seen.push(context.requestedModel));
        hooks.onUsage.tap('broken', () => {
          throw new Error('observer bug');
        });
        hooks.onUsage.tap('after', () => seen.push('usage'));
      },
    };
    await make({ plugins: [plugin] }).chat(hello);
    expect(seen).toEqual(['usage', hello.model]);
  });

  it('routes to a provider registered by a plugin, exactly like a built-in one', async () => {
    const echo: ProviderFactory = {
      type: 'echo',
      create: ({ name }) => ({
        contractVersion: PROVIDER_CONTRACT_VERSION,
        name,
        type: 'echo',
        chat: async (request, context) => ({
          id: 'e',
          object: 'chat.completion',
          created: 1,
          model: context.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: JSON.stringify(request.messages) },
              finish_reason: 'stop',
            },
          ],
        }),
        stream: async () => {
          throw new SwitchyardError('unsupported_feature', 'no streams');
        },
      }),
    };
    const gateway = make({
      plugins: [
        {
          name: 'echo-plugin',
          apply: (hooks) => hooks.registerProviders.tap('echo-plugin', (registry) => registry.register(echo)),
        },
      ],
      providers: [{ name: 'e', type: 'echo' }],
      models: [{ name: 'echo', targets: [{ provider: 'e', model: 'v1' }] }],
    });
    const response = await gateway.chat({ ...hello, model: 'echo' });
    expect(response.model).toBe('v1');
    expect(gateway.listModels().map((m) => m.id)).toEqual(['echo']);
  });

  it('rejects duplicate plugins and provider types with duplicate_registration', () => {
    const plugin: GatewayPlugin = { name: 'twice', apply: () => undefined };
    expect(() => make({ plugins: [plugin, plugin] })).toThrow(
      expect.objectContaining({ code: 'duplicate_registration' }),
    );
    const again: GatewayPlugin = {
      name: 'again',
      apply: (hooks) =>
        hooks.registerProviders.tap('again', (r) =>
          r.register({
            type: 'mock',
            create: () => {
              throw new Error('unused');
            },
          }),
        ),
    };
    expect(() => make({ plugins: [again] })).toThrow(
      expect.objectContaining({ code: 'duplicate_registration' }),
    );
  });

  it('reports every options problem in one invalid_options error', () => {
    let error: SwitchyardError | undefined;
    try {
      createGateway({
        providers: [
          { name: 'a', type: 'openai', baseUrl: 'ftp://nope' },
          { name: 'a', type: 'mystery' },
        ],
        models: [{ name: 'm', targets: [{ provider: 'ghost', model: 'x' }], fallbacks: ['missing'] }],
        maxRetries: 0,
      } as GatewayOptions);
    } catch (caught) {
      error = caught as SwitchyardError;
    }
    expect(error?.code).toBe('invalid_options');
    expect(error?.message).toContain('/providers/0/baseUrl');
    expect(error?.message).toContain('provider name "a" is used twice');
    expect(error?.message).toContain('unknown provider type "mystery"');
    expect(error?.message).toContain('no provider is named "ghost"');
    expect(error?.message).toContain('no model is named "missing"');
    expect(error?.message).toContain('/maxRetries: unknown option');
  });

  it('refuses provider values every call would fail on, naming the field and never quoting a value', () => {
    const secret = 'sk-live-secret-with-a-newline';
    expect(() =>
      createGateway({
        providers: [
          { name: 'a', type: 'openai', baseUrl: 'https://api.example.com:99999/v1' },
          { name: 'b', type: 'openai', apiKey: `${secret}\n`, headers: { 'bad header': 'v', ok: 'a\r\nb' } },
          { name: 'c', type: 'azure-openai', endpoint: 'https://exa mple.openai.azure.com', apiKey: 'k' },
          // a key pasted with typographic quotes, a header with a control character
          { name: 'd', type: 'openai', apiKey: `\u201c${secret}\u201d`, headers: { 'x-tag': 'a\u0001b' } },
        ],
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'invalid_options',
        message: [
          'Invalid gateway options:',
          '- /providers/0/baseUrl: is not a valid URL',
          '- /providers/1/headers: "bad header" is not a valid header name',
          '- /providers/1/headers/ok: holds a line break, another control character or a character above U+00FF, which no header value may',
          "- /providers/1/apiKey: holds a line break, another control character or a character above U+00FF, which no header value may (a key file's trailing newline?)",
          '- /providers/2/endpoint: is not a valid URL',
          '- /providers/3/headers/x-tag: holds a line break, another control character or a character above U+00FF, which no header value may',
          "- /providers/3/apiKey: holds a line break, another control character or a character above U+00FF, which no header value may (a key file's trailing newline?)",
        ].join('\n'),
      }),
    );
  });

  it('embeds through the mock provider deterministically', async () => {
    const gateway = make();
    const a = await gateway.embed({ model: 'mock/e', input: 'same text', dimensions: 8 });
    const b = await gateway.embed({ model: 'mock/e', input: 'same text', dimensions: 8 });
    expect(a.data[0]?.embedding).toHaveLength(8);
    expect(a.data[0]?.embedding).toEqual(b.data[0]?.embedding);
  });
});

describe('candidates', () => {
  it("lists a model's targets, then its fallbacks' targets, once each, with provider types and catalog output limits", () => {
    const catalog = {
      lookup: (model: string) =>
        model === 'gpt-4o-mini'
          ? {
              id: model,
              provider: 'openai',
              contextWindow: 128_000,
              maxOutputTokens: 16_384,
              inputModalities: ['text'],
              outputModalities: ['text'],
              supportsTools: true,
            }
          : undefined,
      list: () => [],
    };
    const gateway = make({
      modelCatalog: catalog,
      models: [
        {
          name: 'solo',
          targets: [{ provider: 'primary', model: 'gpt-4o-mini' }],
          fallbacks: ['gpt', 'demo'],
        },
        {
          name: 'gpt',
          targets: [
            { provider: 'primary', model: 'gpt-4o-mini' },
            { provider: 'backup', model: 'gpt-4o-mini' },
          ],
          fallbacks: ['solo'],
        },
        { name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] },
      ],
    });
    expect(gateway.candidates('solo')).toEqual([
      { provider: 'primary', providerType: 'openai', model: 'gpt-4o-mini', maxOutputTokens: 16_384 },
      { provider: 'backup', providerType: 'openai', model: 'gpt-4o-mini', maxOutputTokens: 16_384 },
      { provider: 'mock', providerType: 'mock', model: 'echo' },
    ]);
    expect(gateway.candidates('unknown')).toBeUndefined();
  });

  it("leaves out a fallback's own fallbacks, which a request never reaches", () => {
    const gateway = make({
      models: [
        { name: 'first', targets: [{ provider: 'primary', model: 'a' }], fallbacks: ['second'] },
        { name: 'second', targets: [{ provider: 'backup', model: 'b' }], fallbacks: ['third'] },
        { name: 'third', targets: [{ provider: 'mock', model: 'echo' }] },
      ],
    });
    expect(gateway.candidates('first')?.map((candidate) => candidate.model)).toEqual(['a', 'b']);
  });

  it('answers a wrapper made with Object.create(engine), as an app reads it, from the engine it wraps', () => {
    const engine = make({ models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }] });
    const wrapper = Object.assign(Object.create(engine) as Gateway, { chat: engine.chat.bind(engine) });
    expect(wrapper.listModels().map((entry) => entry.id)).toEqual(
      engine.listModels().map((entry) => entry.id),
    );
    expect(wrapper.candidates('demo')).toEqual([{ provider: 'mock', providerType: 'mock', model: 'echo' }]);
    expect(wrapper.provider('mock')?.type).toBe('mock');
    expect(wrapper.stats()).toEqual(engine.stats());
  });
});

describe('legacy completions', () => {
  const instruct = (): Gateway =>
    make({
      models: [
        {
          name: 'instruct',
          strategy: 'ordered',
          targets: [
            { provider: 'primary', model: 'gpt-3.5-turbo-instruct' },
            { provider: 'backup', model: 'gpt-4o-mini' },
          ],
        },
      ],
      retry: { maxRetries: 0 },
    });

  it('sends a native completion through the hooks: the chat view before, usage and the attempt after', async () => {
    const gateway = instruct();
    const seen: ChatCompletionRequest[] = [];
    const usage: number[] = [];
    gateway.hooks.beforeRequest.tap('redact', (request) => {
      seen.push(request);
      return {
        ...request,
        messages: [
          {
            role: 'user',
            content: contentText(request.messages[0]?.content).replace('secret', '[redacted]'),
          },
        ],
      };
    });
    gateway.hooks.onUsage.tap('usage', (report) => usage.push(report.usage.total_tokens));
    const context = createRequestContext({ endpoint: 'completions' });
    const answer = await gateway.complete(
      { model: 'instruct', prompt: 'Say secret', logprobs: 1 },
      { context },
    );
    expect(seen[0]).toMatchObject({
      model: 'instruct',
      messages: [{ role: 'user', content: 'Say secret' }],
      max_tokens: 16,
      legacy_completion: { logprobs: 1 },
    });
    expect(fixture.upstream.requests[0]?.body).toMatchObject({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say [redacted]',
      logprobs: 1,
      max_tokens: 16,
    });
    expect(answer).toMatchObject({
      object: 'text_completion',
      choices: [{ text: '\n\nThis is indeed a test', index: 0, finish_reason: 'length' }],
    });
    expect(answer.choices[0]?.logprobs?.tokens).toHaveLength(6);
    expect(usage).toEqual([12]);
    expect(context).toMatchObject({
      endpoint: 'completions',
      provider: 'primary',
      upstreamModel: 'gpt-3.5-turbo-instruct',
      requestedModel: 'instruct',
    });
    expect(context.attempts.map((attempt) => attempt.ok)).toEqual([true]);
  });

  it('reports a completion it refuses before any attempt: onError and onRequestEnd see it once', async () => {
    const gateway = instruct();
    const ended: RequestContext[] = [];
    const errors: string[] = [];
    gateway.hooks.onError.tap('errors', (error) => errors.push(error.code));
    gateway.hooks.onRequestEnd.tap('end', (context) => ended.push(context));
    await expect(gateway.complete({ model: 'instruct', prompt: ['a', 'b'] })).rejects.toMatchObject({
      code: 'invalid_request',
    });
    await expect(gateway.streamComplete({ model: 'instruct', prompt: ['a', 'b'] })).rejects.toMatchObject({
      code: 'invalid_request',
    });
    expect(errors).toEqual(['invalid_request', 'invalid_request']);
    expect(ended.map((context) => [context.endpoint, context.requestedModel, context.error?.code])).toEqual([
      ['completions', 'instruct', 'invalid_request'],
      ['completions', 'instruct', 'invalid_request'],
    ]);
    expect(fixture.upstream.requests).toHaveLength(0);
  });

  it('fails over from a native target to the next through chat, each attempt recorded as for chat', async () => {
    fixture.upstream.fault({ kind: 'status', status: 500, match: { path: '/v1/completions' } });
    const context = createRequestContext({ endpoint: 'completions' });
    const answer = await instruct().complete(
      { model: 'instruct', prompt: 'Hello!', echo: true },
      { context },
    );
    expect(fixture.upstream.requests.map((request) => request.path)).toEqual([
      '/v1/completions',
      '/backup/v1/chat/completions',
    ]);
    expect(fixture.upstream.requests[1]?.body).toMatchObject({
      messages: [{ role: 'user', content: 'Hello!' }],
      max_tokens: 16,
    });
    expect(fixture.upstream.requests[1]?.body).not.toHaveProperty('legacy_completion');
    expect(answer.choices[0]?.text).toBe('Hello!\n\nHello there, how may I assist you today?');
    expect(context.attempts.map((attempt) => [attempt.provider, attempt.ok, attempt.error?.code])).toEqual([
      ['primary', false, 'upstream_error'],
      ['backup', true, undefined],
    ]);
  });

  it('streams natively, and echoes the prompt first when a chat target answers', async () => {
    const gateway = instruct();
    const texts = async (stream: AsyncIterable<{ choices: Array<{ text: string }> }>): Promise<string[]> => {
      const out: string[] = [];
      for await (const chunk of stream) out.push(...chunk.choices.map((choice) => choice.text));
      return out;
    };
    expect((await texts(await gateway.streamComplete({ model: 'instruct', prompt: 'Hi' }))).join('')).toBe(
      '\n\nThis is indeed a test',
    );
    fixture.upstream.fault({ kind: 'status', status: 503, match: { path: '/v1/completions' } });
    const echoed = await texts(await gateway.streamComplete({ model: 'instruct', prompt: 'Hi', echo: true }));
    expect(echoed[0]).toBe('Hi');
    expect(echoed.join('')).toBe('Hi\n\nHello there, how may I assist you today?');
  });
});
