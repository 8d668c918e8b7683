import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGateway, type Gateway } from '../src/gateway/create-gateway';
import type { GatewayOptions } from '../src/gateway/gateway-options';
import { createRequestContext } from '../src/gateway/request-context';
import { SwitchyardError } from '../src/errors/switchyard-error';
import type { GatewayPlugin } from '../src/hooks/gateway-hooks';
import { PROVIDER_CONTRACT_VERSION, type ProviderAdapter } from '../src/providers/provider-adapter';
import type { ChatCompletion, ChatCompletionRequest } from '../src/wire/openai-chat';

const ask = (model: string, extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
  model,
  messages: [{ role: 'user', content: 'Hello!' }],
  ...extra,
});

const answer = (model: string): ChatCompletion => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 0,
  model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

/** A chat-only provider type (no `embed`) whose calls `chat` answers; each call is logged as `instance/model`. */
function scripted(
  type: string,
  chat: (request: ChatCompletionRequest, model: string, name: string) => Promise<ChatCompletion>,
  calls: string[] = [],
): GatewayPlugin {
  return {
    name: `scripted-${type}`,
    apply: (hooks) =>
      hooks.registerProviders.tap(`scripted-${type}`, (registry) =>
        registry.register({
          type,
          create: ({ name }): ProviderAdapter => ({
            contractVersion: PROVIDER_CONTRACT_VERSION,
            name,
            type,
            chat: (request, context) => {
              calls.push(`${name}/${context.model}`);
              return chat(request, context.model, name);
            },
            stream: () => Promise.reject(new SwitchyardError('upstream_error', 'no streams here')),
          }),
        }),
      ),
  };
}

/** An upstream call held until the test answers it. */
interface HeldCall {
  target: string;
  answer: () => void;
}

/** A provider type whose calls wait for the test: `next()` gives the next call made. */
function held(type: string): { plugin: GatewayPlugin; next: () => Promise<HeldCall> } {
  const made: HeldCall[] = [];
  const waiting: Array<(call: HeldCall) => void> = [];
  const plugin = scripted(
    type,
    (_request, model, name) =>
      new Promise<ChatCompletion>((resolve) => {
        const call = { target: `${name}/${model}`, answer: () => resolve(answer(model)) };
        const waiter = waiting.shift();
        if (waiter === undefined) made.push(call);
        else waiter(call);
      }),
  );
  const next = (): Promise<HeldCall> => {
    const call = made.shift();
    return call === undefined ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve(call);
  };
  return { plugin, next };
}

/** The target (`provider/model`) of every attempt a gateway begins, in order; `next()` waits for the next one. */
function watchAttempts(gateway: Gateway): { next: () => Promise<string> } {
  const seen: string[] = [];
  const waiting: Array<(target: string) => void> = [];
  gateway.hooks.beforeAttempt.tap('watch', ({ target }) => {
    const key = `${target.provider}/${target.model}`;
    const waiter = waiting.shift();
    if (waiter === undefined) seen.push(key);
    else waiter(key);
  });
  return {
    next: () => {
      const key = seen.shift();
      return key === undefined ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve(key);
    },
  };
}

const gateways: Gateway[] = [];
const make = (options: GatewayOptions): Gateway => {
  const gateway = createGateway(options);
  gateways.push(gateway);
  return gateway;
};

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

describe('a target that refuses a request before calling upstream', () => {
  it('keeps no limiter slot for embeddings on a provider without embed', async () => {
    const calls: string[] = [];
    const gateway = make({
      plugins: [scripted('chat-only', (_request, model) => Promise.resolve(answer(model)), calls)],
      providers: [{ name: 'anth', type: 'chat-only' }],
      models: [
        { name: 'claude', targets: [{ provider: 'anth', model: 'c', limits: { requestsPerMinute: 3 } }] },
      ],
      limiter: { maxWaitMs: 0 },
      retry: { maxRetries: 0 },
    });
    for (let i = 0; i < 3; i++) {
      const context = createRequestContext({ endpoint: 'embeddings' });
      await expect(gateway.embed({ model: 'claude', input: 'x' }, { context })).rejects.toMatchObject({
        code: 'unsupported_feature',
        status: 400,
      });
      expect(context.attempts.map((attempt) => [attempt.error?.code, attempt.called])).toEqual([
        ['unsupported_feature', false],
      ]);
    }
    const response = await gateway.chat(ask('claude'));
    expect(response.choices[0]?.message.content).toBe('ok');
    expect(calls).toEqual(['anth/c']);
  });

  it('gives back the request and tokens of a call its adapter refused (n above 1 on a host that takes none)', async () => {
    const calls: string[] = [];
    const refusesN = scripted(
      'one-choice',
      (request, model, name) =>
        (request.n ?? 1) > 1
          ? Promise.reject(
              new SwitchyardError('unsupported_feature', `Provider "${name}" answers one choice.`, {
                param: 'n',
                beforeSending: true,
              }),
            )
          : Promise.resolve(answer(model)),
      calls,
    );
    const gateway = make({
      plugins: [refusesN],
      providers: [{ name: 'host', type: 'one-choice' }],
      models: [
        {
          name: 'm',
          targets: [
            { provider: 'host', model: 'llama', limits: { requestsPerMinute: 1, tokensPerMinute: 1000 } },
          ],
        },
      ],
      limiter: { maxWaitMs: 0 },
      retry: { maxRetries: 0 },
      breaker: { enabled: false },
    });
    const refused = createRequestContext();
    // weighs the whole per-minute token limit (prompt + 2 × 100 000, capped)
    await expect(
      gateway.chat(ask('m', { n: 2, max_tokens: 100_000 }), { context: refused }),
    ).rejects.toMatchObject({ code: 'unsupported_feature', status: 400 });
    expect(refused.attempts.map((attempt) => attempt.called)).toEqual([false]);
    const response = await gateway.chat(ask('m', { max_tokens: 10 }));
    expect(response.choices[0]?.message.content).toBe('ok');
    expect(calls).toEqual(['host/llama', 'host/llama']);
  });
});

describe('an attempt its adapter refused before sending', () => {
  it('is recorded as not called and gives its request back when the request cannot be translated (invalid_request)', async () => {
    const calls: string[] = [];
    // a translator's refusal: tool call arguments that are not JSON, found before any I/O
    const strict = scripted(
      'strict',
      (request, model) =>
        request.messages.some((message) => message.role === 'assistant')
          ? Promise.reject(
              new SwitchyardError('invalid_request', 'A tool call has arguments that are not valid JSON.', {
                param: 'messages.1.tool_calls.0.function.arguments',
                beforeSending: true,
              }),
            )
          : Promise.resolve(answer(model)),
      calls,
    );
    const gateway = make({
      plugins: [strict],
      providers: [{ name: 'host', type: 'strict' }],
      models: [{ name: 'm', targets: [{ provider: 'host', model: 'x', limits: { requestsPerMinute: 1 } }] }],
      limiter: { maxWaitMs: 0 },
      retry: { maxRetries: 0 },
    });
    const refused = createRequestContext();
    await expect(
      gateway.chat(
        ask('m', {
          messages: [
            { role: 'user', content: 'Hello!' },
            { role: 'assistant', content: 'Hi' },
          ],
        }),
        { context: refused },
      ),
    ).rejects.toMatchObject({ code: 'invalid_request', status: 400 });
    expect(refused.attempts.map((attempt) => [attempt.error?.code, attempt.called])).toEqual([
      ['invalid_request', false],
    ]);
    // the one request a minute was not spent on the refusal
    const response = await gateway.chat(ask('m'));
    expect(response.choices[0]?.message.content).toBe('ok');
  });

  it('is recorded as called when the upstream answered the invalid request itself (it has an upstream status)', async () => {
    const gateway = make({
      plugins: [
        scripted('answers-400', () =>
          Promise.reject(
            new SwitchyardError('invalid_request', 'Provider said no.', { upstreamStatus: 400 }),
          ),
        ),
      ],
      providers: [{ name: 'host', type: 'answers-400' }],
      models: [{ name: 'm', targets: [{ provider: 'host', model: 'x' }] }],
      retry: { maxRetries: 0 },
    });
    const context = createRequestContext();
    await expect(gateway.chat(ask('m'), { context })).rejects.toMatchObject({ code: 'invalid_request' });
    expect(context.attempts.map((attempt) => attempt.called)).toEqual([true]);
  });
});

describe('a built-in translator refusal', () => {
  it('is recorded as not called and gives its limiter slot back (Anthropic refuses n above 1 before sending)', async () => {
    const gateway = make({
      // never reached: the translator refuses first
      providers: [
        { name: 'anth', type: 'anthropic', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-ant-0000' },
      ],
      models: [
        { name: 'm', targets: [{ provider: 'anth', model: 'claude', limits: { requestsPerMinute: 1 } }] },
      ],
      limiter: { maxWaitMs: 0 },
      retry: { maxRetries: 0 },
    });
    for (let i = 0; i < 2; i++) {
      const context = createRequestContext();
      await expect(gateway.chat(ask('m', { n: 2 }), { context })).rejects.toMatchObject({
        code: 'unsupported_feature',
        param: 'n',
      });
      // a second refusal would be limiter_rejected had the first kept the minute's one request
      expect(context.attempts.map((attempt) => [attempt.error?.code, attempt.called])).toEqual([
        ['unsupported_feature', false],
      ]);
    }
  });
});

describe('an attempt whose adapter failed with invalid_request after calling upstream', () => {
  /** A plugin adapter that calls its upstream, then finds the answer unreadable: a plain `invalid_request`, no upstream status. */
  const unreadable = (calls: string[]): GatewayPlugin =>
    scripted(
      'unreadable',
      () => Promise.reject(new SwitchyardError('invalid_request', 'The answer had no choices.')),
      calls,
    );

  it('is recorded as called and keeps its limiter slot: only a refusal marked beforeSending was not a call', async () => {
    const calls: string[] = [];
    const gateway = make({
      plugins: [unreadable(calls)],
      providers: [{ name: 'host', type: 'unreadable' }],
      models: [{ name: 'm', targets: [{ provider: 'host', model: 'x', limits: { requestsPerMinute: 1 } }] }],
      limiter: { maxWaitMs: 0 },
      retry: { maxRetries: 0 },
      breaker: { enabled: false },
    });
    const context = createRequestContext();
    await expect(gateway.chat(ask('m'), { context })).rejects.toMatchObject({ code: 'invalid_request' });
    expect(context.attempts.map((attempt) => [attempt.error?.code, attempt.called])).toEqual([
      ['invalid_request', true],
    ]);
    // the minute's one request went to the upstream
    await expect(gateway.chat(ask('m'))).rejects.toMatchObject({ code: 'limiter_rejected' });
    expect(calls).toEqual(['host/x']);
  });

  it.each([
    ['counts in the breaker, so two failures among three calls open it', false, 'open'],
    [
      'does not count in the breaker when marked beforeSending, so two calls stay under the volume threshold',
      true,
      'closed',
    ],
  ] as const)('%s', async (_title, beforeSending, state) => {
    let call = 0;
    const gateway = make({
      plugins: [
        scripted('mixed', () =>
          Promise.reject(
            ++call === 1
              ? new SwitchyardError('invalid_request', 'No choices in the answer.', { beforeSending })
              : new SwitchyardError('upstream_error', 'Upstream failed.'),
          ),
        ),
      ],
      providers: [{ name: 'host', type: 'mixed' }],
      models: [{ name: 'm', targets: [{ provider: 'host', model: 'x' }] }],
      retry: { maxRetries: 0 },
      breaker: { volumeThreshold: 3, errorThresholdPercentage: 50 },
    });
    for (let i = 0; i < 3; i++) await gateway.chat(ask('m')).catch(() => undefined);
    const context = createRequestContext();
    await gateway.chat(ask('m'), { context }).catch(() => undefined);
    expect(context.attempts.map((attempt) => attempt.error?.code)).toEqual([
      state === 'open' ? 'circuit_open' : 'upstream_error',
    ]);
  });
});

describe("routing by load and latency counts the wait for a target's limiter", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('least-in-flight counts the attempts queued on a target as in flight', async () => {
    const upstream = held('held');
    const gateway = make({
      plugins: [upstream.plugin],
      providers: [
        { name: 'a', type: 'held' },
        { name: 'b', type: 'held' },
      ],
      models: [
        {
          name: 'lif',
          strategy: 'least-in-flight',
          targets: [
            { provider: 'a', model: 'm', limits: { maxConcurrent: 1 } },
            { provider: 'b', model: 'm' },
          ],
        },
      ],
    });
    const attempts = watchAttempts(gateway);
    // a: one call running, two waiting for its limiter; b: two calls running
    const pending = ['a/m', 'a/m', 'a/m', 'b/m', 'b/m'].map((model) => gateway.chat(ask(model)));
    for (let i = 0; i < 5; i++) await attempts.next();
    const running = [await upstream.next(), await upstream.next(), await upstream.next()];
    expect(running.map((call) => call.target).sort()).toEqual(['a/m', 'b/m', 'b/m']);
    pending.push(gateway.chat(ask('lif')));
    expect(await attempts.next()).toBe('b/m');
    // let everything finish: each call answered as it reaches the upstream
    for (const call of running) call.answer();
    for (let i = 0; i < 3; i++) (await upstream.next()).answer();
    await Promise.all(pending);
  });

  it('lowest-latency times an attempt from before its limiter wait', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const upstream = held('held');
    const gateway = make({
      plugins: [upstream.plugin],
      providers: [
        { name: 'a', type: 'held' },
        { name: 'b', type: 'held' },
      ],
      models: [
        {
          name: 'fast',
          strategy: 'lowest-latency',
          targets: [
            { provider: 'a', model: 'm', limits: { maxConcurrent: 1 } },
            { provider: 'b', model: 'm' },
          ],
        },
      ],
      // the last sample is the latency
      routing: { explorationRate: 0, latencyEwmaAlpha: 1 },
    });
    const attempts = watchAttempts(gateway);
    // b answers in 300 ms
    const onB = gateway.chat(ask('b/m'));
    await attempts.next();
    const b = await upstream.next();
    vi.advanceTimersByTime(300);
    b.answer();
    await onB;
    // a answers its first call in 1000 ms, while the second waits for its slot, then at once
    const first = gateway.chat(ask('a/m'));
    const second = gateway.chat(ask('a/m'));
    await attempts.next();
    await attempts.next();
    const a1 = await upstream.next();
    vi.advanceTimersByTime(1_000);
    a1.answer();
    await first;
    (await upstream.next()).answer();
    await second;
    // the second call waited 1000 ms for a: slower than b, not an instant answer
    const routed = gateway.chat(ask('fast'));
    expect(await attempts.next()).toBe('b/m');
    (await upstream.next()).answer();
    await routed;
  });
});

describe('one pass over an alias and its fallbacks', () => {
  const unavailable = scripted('unavailable', () =>
    Promise.reject(new SwitchyardError('upstream_unavailable', '503')),
  );

  it('calls each target once, however many of the aliases name it', async () => {
    const calls: string[] = [];
    const gateway = make({
      plugins: [
        scripted('down', () => Promise.reject(new SwitchyardError('upstream_unavailable', '503')), calls),
      ],
      providers: [
        { name: 'x', type: 'down' },
        { name: 'y', type: 'down' },
      ],
      models: [
        { name: 'a', strategy: 'ordered', targets: [{ provider: 'x', model: 'm' }], fallbacks: ['b', 'c'] },
        {
          name: 'b',
          strategy: 'ordered',
          targets: [
            { provider: 'x', model: 'm' },
            { provider: 'y', model: 'm' },
          ],
        },
        {
          name: 'c',
          strategy: 'ordered',
          targets: [
            { provider: 'y', model: 'm' },
            { provider: 'x', model: 'm' },
          ],
        },
      ],
      retry: { maxRetries: 0 },
    });
    const context = createRequestContext();
    await expect(gateway.chat(ask('a'), { context })).rejects.toMatchObject({ code: 'upstream_unavailable' });
    expect(calls).toEqual(['x/m', 'y/m']);
    expect(calls).toEqual(
      gateway.candidates('a')?.map((candidate) => `${candidate.provider}/${candidate.model}`),
    );
    expect(context.attempts.map((attempt) => `${attempt.alias}:${attempt.provider}`)).toEqual(['a:x', 'b:y']);
    // a move to b; c, whose targets were both tried, calls nothing and is no fallback
    expect(gateway.stats().counters.fallbacks).toBe(1);
  });

  it('calls each target once a pass when retried', async () => {
    const calls: string[] = [];
    const gateway = make({
      plugins: [
        scripted('down', () => Promise.reject(new SwitchyardError('upstream_unavailable', '503')), calls),
      ],
      providers: [{ name: 'x', type: 'down' }],
      models: [
        {
          name: 'a',
          targets: [
            { provider: 'x', model: 'm' },
            { provider: 'x', model: 'm', weight: 2 },
          ],
        },
      ],
      retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    await expect(gateway.chat(ask('a'))).rejects.toMatchObject({ code: 'upstream_unavailable' });
    expect(calls).toEqual(['x/m', 'x/m']);
  });

  it('tries a fallback alias a resolveRoute tap lists twice once', async () => {
    const calls: string[] = [];
    const gateway = make({
      plugins: [
        scripted('down', () => Promise.reject(new SwitchyardError('upstream_unavailable', '503')), calls),
      ],
      providers: [{ name: 'x', type: 'down' }],
      models: [{ name: 'b', targets: [{ provider: 'x', model: 'n' }] }],
      retry: { maxRetries: 0 },
    });
    gateway.hooks.resolveRoute.tap('tenant', () => ({
      alias: 'tenant',
      strategy: 'ordered',
      fallbacks: ['b', 'b'],
      targets: [{ provider: 'x', model: 'm', weight: 1 }],
    }));
    await expect(gateway.chat(ask('tenant'))).rejects.toMatchObject({ code: 'upstream_unavailable' });
    expect(calls).toEqual(['x/m', 'x/n']);
    expect(gateway.stats().counters.fallbacks).toBe(1);
  });

  it('refuses a fallback alias listed twice', () => {
    expect(() =>
      createGateway({
        plugins: [unavailable],
        providers: [{ name: 'x', type: 'unavailable' }],
        models: [
          { name: 'a', targets: [{ provider: 'x', model: 'm' }], fallbacks: ['b', 'c', 'b'] },
          { name: 'b', targets: [{ provider: 'x', model: 'n' }] },
          { name: 'c', targets: [{ provider: 'x', model: 'o' }] },
        ],
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'invalid_options',
        message:
          'Invalid gateway options:\n- /models/0/fallbacks/2: "b" is already fallbacks/0; list each fallback model once',
      }),
    );
  });
});

describe('lowest-latency under a flood of direct model names', () => {
  it("keeps a failing configured target's latency", async () => {
    let failed = 0;
    const gateway = make({
      plugins: [
        scripted('down', () => {
          failed += 1;
          return Promise.reject(new SwitchyardError('upstream_unavailable', '503'));
        }),
      ],
      providers: [
        { name: 'a', type: 'down' },
        { name: 'b', type: 'mock' },
      ],
      models: [
        {
          name: 'fast',
          strategy: 'ordered',
          targets: [
            { provider: 'a', model: 'm' },
            { provider: 'b', model: 'm' },
          ],
        },
        {
          name: 'fastest',
          strategy: 'lowest-latency',
          targets: [
            { provider: 'a', model: 'm' },
            { provider: 'b', model: 'm' },
          ],
        },
      ],
      routing: { explorationRate: 0 },
      retry: { maxRetries: 0 },
    });
    // a fails (its latency weighs a whole attempt timeout), b answers
    await gateway.chat(ask('fast'));
    expect(failed).toBe(1);
    // more targets than the gateway keeps figures for, each named once by a client
    for (let i = 0; i < 10_001; i++) await gateway.chat(ask(`b/client-chosen-${i}`));
    const context = createRequestContext();
    await gateway.chat(ask('fastest'), { context });
    expect(context.attempts.map((attempt) => attempt.provider)).toEqual(['b']);
    expect(failed).toBe(1);
  }, 60_000);
});
