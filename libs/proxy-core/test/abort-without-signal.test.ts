import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Agent } from 'undici';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { useGatewayFixture } from './support/gateway-fixture';
import { SwitchyardError } from '../src/errors/switchyard-error';
import type { Gateway } from '../src/gateway/create-gateway';
import type { GatewayOptions } from '../src/gateway/gateway-options';
import { createRequestContext } from '../src/gateway/request-context';
import { readJsonBody, upstreamRequest } from '../src/http/upstream-request';
import type { GatewayPlugin } from '../src/hooks/gateway-hooks';
import {
  PROVIDER_CONTRACT_VERSION,
  type ProviderAdapter,
  type ProviderCallContext,
} from '../src/providers/provider-adapter';
import { callCancellation } from '../src/providers/provider-call-cancellation';
import { AbortSourceController } from '../src/resilience/linked-abort-controller';
import type { ChatCompletion } from '../src/wire/openai-chat';
import { abortSource, ask, gatewayFor, upstreamReceived, useFakeClock } from './resilience-harness';

const fixture = useGatewayFixture();
const dispatcher = new Agent();

function make(options: Partial<GatewayOptions> = {}): Gateway {
  const gateway = gatewayFor(fixture.upstream, {
    models: [{ name: 'm', targets: [{ provider: 'primary', model: 'gpt' }] }],
    ...options,
  });
  return fixture.track(gateway);
}

afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  await dispatcher.close();
});

/** Counts the AbortControllers made while `run` runs (every AbortSignal the code makes comes from one). */
async function abortControllersMadeBy(run: () => Promise<unknown>): Promise<number> {
  const original = globalThis.AbortController;
  let made = 0;
  globalThis.AbortController = class extends original {
    constructor() {
      super();
      made += 1;
    }
  };
  try {
    await run();
  } finally {
    globalThis.AbortController = original;
  }
  return made;
}

describe('a request context made with an abort source and no signal', () => {
  it('has an aborted signal, with the reason, when the source had already aborted', () => {
    const reason = new Error('client went away');
    const controller = new AbortSourceController();
    controller.abort(reason);
    const plain = abortSource();
    plain.abort(reason);
    for (const source of [controller, plain]) {
      const { signal } = createRequestContext({ abortSource: source });
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBe(reason);
    }
  });

  it('has a signal that aborts with the source, read before the abort', () => {
    const reason = new SwitchyardError('request_timeout', 'late');
    for (const source of [new AbortSourceController(), abortSource()]) {
      const context = createRequestContext({ abortSource: source });
      const signal = context.signal;
      expect(signal.aborted).toBe(false);
      source.abort(reason);
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBe(reason);
      expect(context.signal).toBe(signal);
    }
  });

  it('leaves no listener on a long-lived source once the contexts whose signal was read are gone', async () => {
    const source = abortSource();
    const made = 200;
    for (let i = 0; i < made; i++)
      expect(createRequestContext({ abortSource: source }).signal.aborted).toBe(false);
    expect(source.listeners()).toBe(made);
    // full collections until the finalization callbacks have run (they run as tasks after a GC)
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    setFlagsFromString('--no-expose-gc');
    for (let round = 0; round < 20 && source.listeners() > 0; round++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(source.listeners()).toBeLessThan(made / 10);
    // and a context still alive keeps following it
    const alive = createRequestContext({ abortSource: source });
    const { signal } = alive;
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    source.abort(new Error('shutting down'));
    expect(signal.aborted).toBe(true);
    expect(alive.signal.reason).toEqual(new Error('shutting down'));
  });

  it('keeps a working signal in a copy ({ ...context })', () => {
    const source = new AbortSourceController();
    const copy = { ...createRequestContext({ abortSource: source }) };
    expect(Object.keys(copy)).toContain('signal');
    source.abort(new Error('gone'));
    expect(copy.signal.aborted).toBe(true);
  });

  it('makes no AbortSignal for a chat, streamed or not, through a built-in adapter', async () => {
    const gateway = make();
    const made = await abortControllersMadeBy(async () => {
      await gateway.chat(ask('m'), {
        context: createRequestContext({ abortSource: new AbortSourceController() }),
      });
      for await (const chunk of await gateway.stream(
        { ...ask('m'), stream: true },
        { context: createRequestContext({ abortSource: new AbortSourceController() }) },
      )) {
        expect(chunk.object).toBe('chat.completion.chunk');
      }
    });
    expect(made).toBe(0);
  });
});

describe('a built-in adapter cancelling its upstream call through the abort source', () => {
  it('aborts the upstream request when the attempt times out, and fails with upstream_timeout', async () => {
    useFakeClock();
    fixture.upstream.fault({ kind: 'hang', times: 1 });
    const reply = make({ attemptTimeoutMs: 1_000, retry: { maxRetries: 0 } })
      .chat(ask('m'))
      .catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 1);
    const aborted = fixture.upstream.nextAbort();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await reply).toMatchObject({ code: 'upstream_timeout', status: 504 });
    expect((await aborted).aborted).toBe(true);
  });

  it('aborts the upstream request when the overall deadline passes, and fails with request_timeout', async () => {
    useFakeClock();
    fixture.upstream.fault({ kind: 'hang', times: 1 });
    const reply = make({ requestTimeoutMs: 1_000 })
      .chat(ask('m'))
      .catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 1);
    const aborted = fixture.upstream.nextAbort();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await reply).toMatchObject({ code: 'request_timeout', status: 504 });
    expect((await aborted).aborted).toBe(true);
  });

  it('aborts the upstream request when the client goes away, and fails with client_closed_request', async () => {
    fixture.upstream.fault({ kind: 'hang', times: 1 });
    const client = new AbortSourceController();
    const reply = make()
      .chat(ask('m'), { context: createRequestContext({ abortSource: client }) })
      .catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 1);
    const aborted = fixture.upstream.nextAbort();
    client.abort();
    expect((await aborted).aborted).toBe(true);
    expect(await reply).toMatchObject({ code: 'client_closed_request' });
  });
});

describe('upstreamRequest with an abort source', () => {
  const url = (): string => `${fixture.upstream.url}/v1/chat/completions`;
  const json = { model: 'gpt', messages: [{ role: 'user', content: 'Hi' }] };

  it('rejects with the source reason itself when it aborts mid-call, and leaves no listener on it', async () => {
    fixture.upstream.fault({ kind: 'hang', times: 1 });
    const source = abortSource();
    const call = upstreamRequest({
      provider: 'p',
      url: url(),
      headers: {},
      json,
      signal: source,
      dispatcher,
    }).catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 1);
    const aborted = fixture.upstream.nextAbort();
    const reason = new SwitchyardError('upstream_timeout', 'too slow', { provider: 'p' });
    source.abort(reason);
    expect(await call).toBe(reason);
    expect((await aborted).aborted).toBe(true);
    expect(source.listeners()).toBe(0);
  });

  it('rejects at once with the reason of a source that already aborted', async () => {
    const source = abortSource();
    const reason = new SwitchyardError('client_closed_request', 'gone');
    source.abort(reason);
    await expect(
      upstreamRequest({ provider: 'p', url: url(), headers: {}, json, signal: source, dispatcher }),
    ).rejects.toBe(reason);
  });

  it('stops listening on the source once the answer is read', async () => {
    const source = abortSource();
    const response = await upstreamRequest({
      provider: 'p',
      url: url(),
      headers: {},
      json,
      signal: source,
      dispatcher,
    });
    const closed = response.body.closed ? Promise.resolve() : once(response.body, 'close');
    await expect(readJsonBody<ChatCompletion>(response, 'p', source)).resolves.toMatchObject({
      object: 'chat.completion',
    });
    // undici stops listening when the body closes, as it does on an AbortSignal
    await closed;
    expect(source.listeners()).toBe(0);
  });
});

describe('a third-party adapter that reads context.signal', () => {
  const seen: ProviderCallContext[] = [];
  const thirdParty: GatewayPlugin = {
    name: 'third-party',
    apply(hooks) {
      hooks.registerProviders.tap('third-party', (registry) =>
        registry.register({
          type: 'third-party',
          create: (options, kit): ProviderAdapter => ({
            contractVersion: PROVIDER_CONTRACT_VERSION,
            name: options.name,
            type: 'third-party',
            async chat(request, context) {
              seen.push(context);
              const response = await upstreamRequest({
                provider: options.name,
                url: `${fixture.upstream.url}/v1/chat/completions`,
                headers: {},
                json: { ...request, model: context.model },
                signal: context.signal,
                dispatcher: kit.dispatcher,
              });
              return readJsonBody<ChatCompletion>(response, options.name, context.signal);
            },
            stream: () => Promise.reject(new SwitchyardError('unsupported_feature', 'no streams here')),
          }),
        }),
      );
    },
  };
  const gatewayOptions = (extra: Partial<GatewayOptions> = {}): Partial<GatewayOptions> => ({
    plugins: [thirdParty],
    providers: [{ name: 'third', type: 'third-party' }],
    models: [{ name: 'm', targets: [{ provider: 'third', model: 'gpt' }] }],
    retry: { maxRetries: 0 },
    ...extra,
  });
  afterEach(() => {
    seen.length = 0;
  });

  it('is answered, and its call context is not one callCancellation() looks through once copied', async () => {
    await expect(make(gatewayOptions()).chat(ask('m'))).resolves.toMatchObject({ object: 'chat.completion' });
    const [context] = seen;
    expect(context).toBeDefined();
    if (context === undefined) return;
    expect(callCancellation(context)).not.toBe(context.signal);
    const own = new AbortController().signal;
    const copy = { ...context, signal: own };
    expect(callCancellation(copy)).toBe(own);
    expect({ ...context }.signal).toBe(context.signal);
  });

  it('sees its signal abort with upstream_timeout when the attempt times out, and the upstream call is aborted', async () => {
    useFakeClock();
    fixture.upstream.fault({ kind: 'hang', times: 1 });
    const reply = make(gatewayOptions({ attemptTimeoutMs: 1_000 }))
      .chat(ask('m'))
      .catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 1);
    const aborted = fixture.upstream.nextAbort();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await reply).toMatchObject({ code: 'upstream_timeout' });
    expect((await aborted).aborted).toBe(true);
    expect(seen[0]?.signal.aborted).toBe(true);
    expect(seen[0]?.signal.reason).toMatchObject({ code: 'upstream_timeout' });
  });

  it('sees its signal abort with the client reason when the client goes away', async () => {
    fixture.upstream.fault({ kind: 'hang', times: 1 });
    const client = new AbortSourceController();
    const reply = make(gatewayOptions())
      .chat(ask('m'), { context: createRequestContext({ abortSource: client }) })
      .catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 1);
    const aborted = fixture.upstream.nextAbort();
    const reason = new Error('client went away');
    client.abort(reason);
    expect((await aborted).aborted).toBe(true);
    expect(await reply).toMatchObject({ code: 'client_closed_request' });
    expect(seen[0]?.signal.reason).toBe(reason);
  });
});
