import { UNTIL_SETTLED } from '@switchyard/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useGatewayFixture } from './support/gateway-fixture';
import type { ModelCatalog, ModelInfo } from '../src/catalog/model-catalog';
import type { Gateway } from '../src/gateway/create-gateway';
import type { GatewayOptions } from '../src/gateway/gateway-options';
import { createRequestContext } from '../src/gateway/request-context';
import {
  abortSource,
  ask,
  callsTo,
  collect,
  gatewayFor,
  nextEvent,
  pumped,
  pumpUntil,
  textOf,
  upstreamReceived,
  useFakeClock,
} from './resilience-harness';

const fixture = useGatewayFixture({ streamChunks: 4 });

function make(options: Partial<GatewayOptions>): Gateway {
  const gateway = gatewayFor(fixture.upstream, options);
  return fixture.track(gateway);
}

/** One alias on the primary only (model `bad` is where faults are aimed). */
const solo = (extra: Partial<GatewayOptions> = {}): Gateway =>
  make({ models: [{ name: 'm', targets: [{ provider: 'primary', model: 'bad' }] }], ...extra });
/** One alias failing over from primary to backup. */
const pair = (extra: Partial<GatewayOptions> = {}): Gateway =>
  make({
    models: [
      {
        name: 'm',
        strategy: 'ordered',
        targets: [
          { provider: 'primary', model: 'bad' },
          { provider: 'backup', model: 'good' },
        ],
      },
    ],
    ...extra,
  });

afterEach(() => {
  vi.useRealTimers();
});

describe.each([500, 502, 503])('an upstream %i', (status) => {
  it('is retried after a jittered backoff and the client sees the answer', async () => {
    useFakeClock();
    fixture.upstream.fault({ kind: 'status', status, times: 1 });
    const gateway = solo();
    const retry = nextEvent(gateway, 'retry');
    const reply = gateway.chat(ask('m'));
    const { delayMs } = await retry;
    expect(delayMs).toBeLessThan(500);
    await vi.advanceTimersByTimeAsync(delayMs);
    await expect(reply).resolves.toMatchObject({ object: 'chat.completion' });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(2);
    expect(gateway.stats().counters).toMatchObject({
      retries: 1,
      breakerRejections: 0,
      limiterRejections: 0,
    });
  });

  it('fails over at once to the next target, without a retry', async () => {
    fixture.upstream.fault({ kind: 'status', status, match: { model: 'bad' } });
    const gateway = pair();
    await expect(gateway.chat(ask('m'))).resolves.toMatchObject({ model: 'good' });
    expect([callsTo(fixture.upstream, '/v1/'), callsTo(fixture.upstream, '/backup/')]).toEqual([1, 1]);
    expect(gateway.stats().counters.retries).toBe(0);
  });
});

describe('an upstream 5xx with rate-limit headers', () => {
  it("is retried after the backoff, not after OpenAI's x-ratelimit-reset-* (sent on every answer)", async () => {
    fixture.upstream.fault({
      kind: 'status',
      status: 500,
      headers: { 'x-ratelimit-reset-requests': '120ms', 'x-ratelimit-reset-tokens': '6m0s' },
      times: 1,
    });
    const gateway = solo({ retry: { baseDelayMs: 10, maxDelayMs: 50 } });
    const retry = nextEvent(gateway, 'retry');
    await expect(gateway.chat(ask('m'))).resolves.toMatchObject({ object: 'chat.completion' });
    expect((await retry).delayMs).toBeLessThanOrEqual(50);
  });

  it('waits no longer than maxDelayMs even when it sends retry-after, and the client is not told to wait minutes', async () => {
    fixture.upstream.fault({ kind: 'status', status: 503, headers: { 'retry-after': '360' } });
    const gateway = solo({ retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 50 } });
    const retry = nextEvent(gateway, 'retry');
    await expect(gateway.chat(ask('m'))).rejects.toMatchObject({ code: 'upstream_unavailable' });
    expect((await retry).delayMs).toBeLessThanOrEqual(50);
    expect(callsTo(fixture.upstream, '/v1/')).toBe(2);
  });

  it('calls the target again once its Retry-After pause is waited out, though the timer fires before performance.now() gets there', async () => {
    // setTimeout fake, performance.now() real: the wake-up comes "early" by that clock, as on a
    // loaded event loop whose cached time makes Node fire a timer a few ms before it
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    fixture.upstream.fault({ kind: 'status', status: 503, headers: { 'retry-after': '1' }, times: 1 });
    const gateway = solo({ retry: { maxRetries: 1, baseDelayMs: 10, maxDelayMs: 5_000 } });
    const retry = nextEvent(gateway, 'retry');
    const reply = gateway.chat(ask('m'));
    const { delayMs } = await retry;
    expect(delayMs).toBeGreaterThan(900);
    await vi.advanceTimersByTimeAsync(delayMs);
    // before, the second round skipped the target as still paused and the client got the 503
    await expect(reply).resolves.toMatchObject({ object: 'chat.completion' });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(2);
  });

  it('a 500 with only reset headers carries no retry-after for the client', async () => {
    fixture.upstream.fault({ kind: 'status', status: 500, headers: { 'x-ratelimit-reset-tokens': '6m0s' } });
    const gateway = solo({ retry: { maxRetries: 0 } });
    const error: unknown = await gateway.chat(ask('m')).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'upstream_error', retryAfterMs: undefined });
  });
});

describe('an upstream 429', () => {
  it('waits for Retry-After before calling the same target again', async () => {
    useFakeClock();
    fixture.upstream.fault({ kind: 'status', status: 429, headers: { 'retry-after': '2' }, times: 1 });
    const gateway = solo();
    const retry = nextEvent(gateway, 'retry');
    const reply = gateway.chat(ask('m'));
    expect((await retry).delayMs).toBe(2000);
    await vi.advanceTimersByTimeAsync(1999);
    expect(callsTo(fixture.upstream, '/v1/')).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(reply).resolves.toMatchObject({ object: 'chat.completion' });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(2);
  });

  it('honours x-ratelimit-reset-requests too', async () => {
    useFakeClock();
    fixture.upstream.fault({
      kind: 'status',
      status: 429,
      headers: { 'x-ratelimit-reset-requests': '1.5s' },
      times: 1,
    });
    const gateway = solo();
    const retry = nextEvent(gateway, 'retry');
    const reply = gateway.chat(ask('m'));
    expect((await retry).delayMs).toBe(1500);
    await vi.advanceTimersByTimeAsync(1500);
    await expect(reply).resolves.toMatchObject({ object: 'chat.completion' });
  });

  it('measures the retry-vs-deadline check against the deadline itself, which started before slow beforeRequest taps', async () => {
    useFakeClock();
    fixture.upstream.fault({ kind: 'status', status: 429, headers: { 'retry-after-ms': '500' } });
    const gateway = solo({ requestTimeoutMs: 1_000 });
    gateway.hooks.beforeRequest.tapPromise('slow', async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 700));
      return request;
    });
    let outcome: unknown;
    void gateway.chat(ask('m')).then(
      (reply) => (outcome = reply),
      (error: unknown) => (outcome = error),
    );
    await pumpUntil(() => outcome !== undefined);
    // 700 ms spent + a 500 ms wait passes the 1 s deadline: no retry that the deadline would cut
    expect(outcome).toMatchObject({ code: 'upstream_rate_limited', retryAfterMs: 500 });
    expect(gateway.stats().counters.retries).toBe(0);
  });

  it('is not retried when the wait would pass the overall deadline: the client sees the 429 and its Retry-After', async () => {
    fixture.upstream.fault({ kind: 'status', status: 429, headers: { 'retry-after': '120' } });
    const gateway = solo({ requestTimeoutMs: 60_000 });
    await expect(gateway.chat(ask('m'))).rejects.toMatchObject({
      code: 'upstream_rate_limited',
      status: 429,
      retryAfterMs: 120_000,
    });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(1);
    expect(gateway.stats().counters.retries).toBe(0);
  });
});

describe('transport faults', () => {
  it('a connection reset fails over to the next target (502 class, not shown to the client)', async () => {
    fixture.upstream.fault({ kind: 'reset', match: { model: 'bad' } });
    const context = createRequestContext();
    await expect(pair().chat(ask('m'), { context })).resolves.toMatchObject({ model: 'good' });
    expect(context.attempts.map((a) => a.error?.code ?? 'ok')).toEqual(['upstream_connection_error', 'ok']);
  });

  it('a reset on the only target reaches the client as 502 after the retries', async () => {
    fixture.upstream.fault({ kind: 'reset' });
    const gateway = solo({ retry: { maxRetries: 1, baseDelayMs: 0 } });
    await expect(gateway.chat(ask('m'))).rejects.toMatchObject({
      code: 'upstream_connection_error',
      status: 502,
    });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(2);
  });

  it('a hung upstream times out per attempt (504) and the next target answers', async () => {
    useFakeClock();
    fixture.upstream.fault({ kind: 'hang', match: { model: 'bad' } });
    const context = createRequestContext();
    const reply = pair({ attemptTimeoutMs: 5_000 }).chat(ask('m'), { context });
    await upstreamReceived(fixture.upstream, 1);
    await vi.advanceTimersByTimeAsync(5_000);
    await expect(reply).resolves.toMatchObject({ model: 'good' });
    expect(context.attempts.map((a) => a.error?.code ?? 'ok')).toEqual(['upstream_timeout', 'ok']);
  });

  it('a hung upstream with no alternative gives the client a 504', async () => {
    useFakeClock();
    fixture.upstream.fault({ kind: 'hang' });
    const reply = solo({ attemptTimeoutMs: 5_000, retry: { maxRetries: 0 } }).chat(ask('m'));
    const settled = reply.catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await settled).toMatchObject({ code: 'upstream_timeout', status: 504 });
  });
});

describe('stream faults', () => {
  it('a 200 that sends an error event before content falls back to the next target', async () => {
    fixture.upstream.fault({ kind: 'stream-error', afterChunks: 1, match: { model: 'bad' } });
    const chunks = await collect(await pair().stream(ask('m')));
    expect(textOf(chunks)).toContain('Hello there');
    expect([callsTo(fixture.upstream, '/v1/'), callsTo(fixture.upstream, '/backup/')]).toEqual([1, 1]);
  });

  it("a 200 whose error event says the request is invalid is the request's fault: neither retried nor failed over", async () => {
    fixture.upstream.fault({
      kind: 'stream-error',
      afterChunks: 0,
      match: { model: 'bad' },
      error: {
        message: 'Invalid schema for function "f"',
        type: 'invalid_request_error',
        param: 'tools',
        code: null,
      },
    });
    await expect(pair().stream(ask('m')).then(collect)).rejects.toMatchObject({
      code: 'upstream_bad_request',
      status: 400,
    });
    expect([callsTo(fixture.upstream, '/v1/'), callsTo(fixture.upstream, '/backup/')]).toEqual([1, 0]);
  });

  it('a 200 whose error event carries a 429 (OpenRouter) is a rate limit: the next target serves it', async () => {
    fixture.upstream.fault({
      kind: 'stream-error',
      afterChunks: 0,
      match: { model: 'bad' },
      error: { message: 'Rate limit exceeded: free-models-per-min.', code: 429 },
    });
    const chunks = await collect(await pair().stream(ask('m')));
    expect(textOf(chunks)).toContain('Hello there');
    expect([callsTo(fixture.upstream, '/v1/'), callsTo(fixture.upstream, '/backup/')]).toEqual([1, 1]);
  });

  it('a 200 whose rate-limit event names its wait (OpenAI\'s "try again in 1.5s") is retried after that wait', async () => {
    useFakeClock();
    fixture.upstream.fault({
      kind: 'stream-error',
      afterChunks: 0,
      times: 1,
      error: {
        message: 'Rate limit reached for gpt-4o on tokens per min (TPM). Please try again in 1.5s.',
        type: 'tokens',
        code: 'rate_limit_exceeded',
      },
    });
    const gateway = solo();
    const retry = nextEvent(gateway, 'retry');
    const reply = gateway.stream(ask('m')).then(collect);
    expect((await retry).delayMs).toBe(1500);
    await vi.advanceTimersByTimeAsync(1500);
    expect(textOf(await reply)).toContain('Hello there');
    expect(callsTo(fixture.upstream, '/v1/')).toBe(2);
  });

  it('a stream cut after content ends with an error, never a clean end, and is not retried', async () => {
    fixture.upstream.fault({ kind: 'cut-stream', afterChunks: 3, match: { model: 'bad' } });
    const stream = await pair().stream(ask('m'));
    await expect(collect(stream)).rejects.toMatchObject({ status: 502 });
    expect([callsTo(fixture.upstream, '/v1/'), callsTo(fixture.upstream, '/backup/')]).toEqual([1, 0]);
  });

  it('a slow stream within the idle timeout is delivered whole', async () => {
    useFakeClock();
    fixture.upstream.fault({ kind: 'slow-stream', delayMs: 1_000 });
    const gateway = solo({ streamIdleTimeoutMs: 1_500 });
    const done = gateway.stream(ask('m')).then(collect);
    let settled = false;
    void done.finally(() => (settled = true));
    while (!settled) await vi.advanceTimersByTimeAsync(250);
    expect(textOf(await done)).toContain('Hello there');
  });

  it('a stream that stalls after content fails with upstream_timeout after the idle timeout', async () => {
    useFakeClock();
    fixture.upstream.fault({ kind: 'stall-stream', afterChunks: 3 });
    const gateway = solo({ streamIdleTimeoutMs: 2_000 });
    const stream = await gateway.stream(ask('m'));
    const result = collect(stream).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await result).toMatchObject({ code: 'upstream_timeout', status: 504 });
  });

  it('a stream that stalls before content times out per attempt and fails over', async () => {
    useFakeClock();
    // headers and then nothing: a chunk before the stall (even one without content) is upstream
    // activity, which restarts the first-content deadline (src/gateway/stream-timeouts.test.ts)
    fixture.upstream.fault({ kind: 'stall-stream', afterChunks: 0, match: { model: 'bad' } });
    const reply = pair({ attemptTimeoutMs: 3_000 }).stream(ask('m'));
    await upstreamReceived(fixture.upstream, 1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(textOf(await collect(await reply))).toContain('Hello there');
    expect(callsTo(fixture.upstream, '/backup/')).toBe(1);
  });
});

describe('the circuit breaker', () => {
  const breaker = { volumeThreshold: 5, errorThresholdPercentage: 50, resetTimeoutMs: 10_000 };

  it('opens at 100% failure within its volume, then makes no upstream call until half-open, then probes once', async () => {
    useFakeClock();
    fixture.upstream.fault({ kind: 'status', status: 500, times: 5 });
    const gateway = solo({ breaker, retry: { maxRetries: 0 } });
    const states: string[] = [];
    gateway.hooks.onResilienceEvent.tap('t', (event) => {
      if (event.type === 'breaker_state') states.push(event.state);
    });
    for (let i = 0; i < 5; i++)
      await expect(gateway.chat(ask('m'))).rejects.toMatchObject({ code: 'upstream_error' });
    expect(gateway.stats().breakers['primary/bad']).toBe('open');
    for (let i = 0; i < 20; i++)
      await expect(gateway.chat(ask('m'))).rejects.toMatchObject({ code: 'circuit_open', status: 503 });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(5);
    expect(gateway.stats().counters).toMatchObject({ breakerRejections: 20, breakerOpens: 1 });

    await vi.advanceTimersByTimeAsync(10_000);
    expect(gateway.stats().breakers['primary/bad']).toBe('half-open');
    // a single probe: the other concurrent calls are refused while it runs
    const results = await Promise.allSettled([
      gateway.chat(ask('m')),
      gateway.chat(ask('m')),
      gateway.chat(ask('m')),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(callsTo(fixture.upstream, '/v1/')).toBe(6);
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('leaves a half-open circuit half-open when its probe ends with the client gone: the next request probes and closes it', async () => {
    useFakeClock();
    fixture.upstream.fault({ kind: 'status', status: 500, times: 5 });
    const gateway = solo({ breaker, retry: { maxRetries: 0 } });
    for (let i = 0; i < 5; i++)
      await expect(gateway.chat(ask('m'))).rejects.toMatchObject({ code: 'upstream_error' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(gateway.stats().breakers['primary/bad']).toBe('half-open');
    // the target has recovered, but the probe's client leaves before it answers
    fixture.upstream.fault({ kind: 'hang', times: 1 });
    const client = new AbortController();
    const probe = gateway.chat(ask('m'), { signal: client.signal }).catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 6);
    client.abort();
    expect(await probe).toMatchObject({ code: 'client_closed_request' });
    // before, the circuit opened again for a whole resetTimeoutMs: a client that kept leaving
    // early held a recovered target off
    expect(gateway.stats().breakers['primary/bad']).toBe('half-open');
    await expect(gateway.chat(ask('m'))).resolves.toMatchObject({ object: 'chat.completion' });
    expect(gateway.stats().breakers['primary/bad']).toBe('closed');
    expect(callsTo(fixture.upstream, '/v1/')).toBe(7);
  });

  it('opens for a failing target behind a full limiter: limiter refusals are not counted as its successes', async () => {
    fixture.upstream.fault({ kind: 'hang', times: 1 });
    fixture.upstream.fault({ kind: 'status', status: 500 });
    const gateway = make({
      breaker,
      retry: { maxRetries: 0 },
      limiter: { maxQueue: 1 },
      models: [{ name: 'm', targets: [{ provider: 'primary', model: 'bad', limits: { maxConcurrent: 1 } }] }],
    });
    const abort = new AbortController();
    const hung = gateway.chat(ask('m'), { signal: abort.signal }).catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 1);
    const queued = gateway.chat(ask('m')).catch((error: unknown) => error);
    await vi.waitFor(
      () => expect(gateway.stats().limiters['primary/bad']).toEqual({ running: 1, queued: 1 }),
      UNTIL_SETTLED,
    );
    for (let i = 0; i < 10; i++)
      await expect(gateway.chat(ask('m'))).rejects.toMatchObject({ code: 'limiter_rejected' });
    abort.abort();
    expect(await hung).toMatchObject({ code: 'client_closed_request' });
    expect(await queued).toMatchObject({ code: 'upstream_error' });
    for (let i = 0; i < 4; i++)
      await expect(gateway.chat(ask('m'))).rejects.toMatchObject({ code: 'upstream_error' });
    // every upstream answer failed: before, the 10 refusals counted as successes and kept it
    // closed; the hung call the client aborted counts as nothing (the target never answered), so
    // the five answered failures reach the volume threshold
    expect(gateway.stats().breakers['primary/bad']).toBe('open');
  });

  it('does not count client errors (4xx other than 408/429)', async () => {
    fixture.upstream.fault({ kind: 'status', status: 400 });
    const gateway = solo({ breaker });
    for (let i = 0; i < 12; i++)
      await expect(gateway.chat(ask('m'))).rejects.toMatchObject({ code: 'upstream_bad_request' });
    expect(gateway.stats().breakers['primary/bad']).toBe('closed');
    expect(callsTo(fixture.upstream, '/v1/')).toBe(12);
  });

  it('an open circuit falls back to another alias without calling the target', async () => {
    fixture.upstream.fault({ kind: 'status', status: 503, match: { model: 'bad' } });
    const gateway = make({
      breaker,
      retry: { maxRetries: 0 },
      models: [
        { name: 'm', targets: [{ provider: 'primary', model: 'bad' }], fallbacks: ['spare'] },
        { name: 'spare', targets: [{ provider: 'backup', model: 'good' }] },
      ],
    });
    for (let i = 0; i < 10; i++)
      await expect(gateway.chat(ask('m'))).resolves.toMatchObject({ model: 'good' });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(5);
    expect(gateway.stats().counters).toMatchObject({ breakerRejections: 5, fallbacks: 10 });
  });
});

describe('lowest-latency routing', () => {
  it('stops sending first to a target that always fails: a failure weighs as an attempt timeout', async () => {
    fixture.upstream.fault({ kind: 'status', status: 500, match: { model: 'bad' } });
    const gateway = make({
      retry: { maxRetries: 0 },
      routing: { explorationRate: 0 },
      models: [
        {
          name: 'm',
          strategy: 'lowest-latency',
          targets: [
            { provider: 'primary', model: 'bad' },
            { provider: 'backup', model: 'good' },
          ],
        },
      ],
    });
    for (let i = 0; i < 8; i++)
      await expect(gateway.chat(ask('m'))).resolves.toMatchObject({ object: 'chat.completion' });
    // at most the first call or two measure the failing target; before, it went first every time
    expect(callsTo(fixture.upstream, '/v1/')).toBeLessThanOrEqual(2);
    expect(callsTo(fixture.upstream, '/backup/')).toBe(8);
  });
});

describe('the upstream limiter', () => {
  it('queues past maxConcurrent, rejects past maxQueue, and a client abort frees the slot', async () => {
    fixture.upstream.fault({ kind: 'hang', times: 1 });
    const gateway = make({
      limiter: { maxQueue: 1 },
      models: [{ name: 'm', targets: [{ provider: 'primary', model: 'bad', limits: { maxConcurrent: 1 } }] }],
    });
    const abort = new AbortController();
    const first = gateway.chat(ask('m'), { signal: abort.signal }).catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 1);
    const second = gateway.chat(ask('m'));
    await vi.waitFor(
      () => expect(gateway.stats().limiters['primary/bad']).toEqual({ running: 1, queued: 1 }),
      UNTIL_SETTLED,
    );
    await expect(gateway.chat(ask('m'))).rejects.toMatchObject({ code: 'limiter_rejected', status: 429 });
    expect(gateway.stats().counters.limiterRejections).toBe(1);
    abort.abort();
    expect(await first).toMatchObject({ code: 'client_closed_request' });
    await expect(second).resolves.toMatchObject({ object: 'chat.completion' });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(2);
    expect(gateway.stats().limiters['primary/bad']).toEqual({ running: 0, queued: 0 });
  });

  it("a target's limits hold from its first request: a direct provider/model call counts against the limited alias", async () => {
    fixture.upstream.fault({ kind: 'hang', times: 1 });
    const gateway = make({
      limiter: { maxQueue: 1 },
      models: [
        { name: 'm', targets: [{ provider: 'primary', model: 'bad', limits: { maxConcurrent: 1 } }] },
        { name: 'plain', targets: [{ provider: 'primary', model: 'bad' }] },
      ],
    });
    const holder = new AbortController();
    const direct = gateway
      .chat(ask('primary/bad'), { signal: holder.signal })
      .catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 1);
    expect(gateway.stats().limiters['primary/bad']).toEqual({ running: 1, queued: 0 });
    // the limited alias finds the target's one slot taken by the direct call, and waits
    const limited = gateway.chat(ask('m'));
    await vi.waitFor(
      () => expect(gateway.stats().limiters['primary/bad']).toEqual({ running: 1, queued: 1 }),
      UNTIL_SETTLED,
    );
    // another alias naming the target without limits is limited too: the queue is full
    await expect(gateway.chat(ask('plain'))).rejects.toMatchObject({ code: 'limiter_rejected', status: 429 });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(1);
    holder.abort();
    expect(await direct).toMatchObject({ code: 'client_closed_request' });
    await expect(limited).resolves.toMatchObject({ object: 'chat.completion' });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(2);
  });

  it('a request waiting in the queue is cancelled by its client, and leaves the queue', async () => {
    fixture.upstream.fault({ kind: 'hang', times: 1 });
    const gateway = make({
      models: [{ name: 'm', targets: [{ provider: 'primary', model: 'bad', limits: { maxConcurrent: 1 } }] }],
    });
    const holder = new AbortController();
    const first = gateway.chat(ask('m'), { signal: holder.signal }).catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 1);
    const waiter = new AbortController();
    const second = gateway.chat(ask('m'), { signal: waiter.signal }).catch((error: unknown) => error);
    await vi.waitFor(
      () => expect(gateway.stats().limiters['primary/bad']).toEqual({ running: 1, queued: 1 }),
      UNTIL_SETTLED,
    );
    waiter.abort();
    expect(await second).toMatchObject({ code: 'client_closed_request' });
    expect(gateway.stats().limiters['primary/bad']).toEqual({ running: 1, queued: 0 });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(1);
    holder.abort();
    expect(await first).toMatchObject({ code: 'client_closed_request' });
  });

  it('a stream holds its slot until it ends; breaking out of it frees the slot', async () => {
    const gateway = make({
      models: [{ name: 'm', targets: [{ provider: 'primary', model: 'bad', limits: { maxConcurrent: 1 } }] }],
    });
    const stream = await gateway.stream(ask('m'));
    expect(gateway.stats().limiters['primary/bad']?.running).toBe(1);
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      break;
    }
    expect(gateway.stats().limiters['primary/bad']?.running).toBe(0);
    await expect(collect(await gateway.stream(ask('m')))).resolves.not.toHaveLength(0);
  });

  it('rejects after maxWaitMs and falls back to another alias when over the limit', async () => {
    useFakeClock();
    const gateway = make({
      limiter: { maxWaitMs: 1_000 },
      models: [
        {
          name: 'm',
          targets: [{ provider: 'primary', model: 'bad', limits: { requestsPerMinute: 2 } }],
          fallbacks: ['spare'],
        },
        { name: 'spare', targets: [{ provider: 'backup', model: 'good' }] },
      ],
    });
    await pumped(gateway.chat(ask('m')));
    await pumped(gateway.chat(ask('m')));
    const third = gateway.chat(ask('m'));
    await pumpUntil(() => gateway.stats().limiters['primary/bad']?.queued === 1);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(pumped(third)).resolves.toMatchObject({ model: 'good' });
    expect([callsTo(fixture.upstream, '/v1/'), callsTo(fixture.upstream, '/backup/')]).toEqual([2, 1]);
    expect(gateway.stats().counters).toMatchObject({ limiterRejections: 1, fallbacks: 1 });
  });

  it('gives back the request a waiting call spent when the circuit opened before it could call', async () => {
    useFakeClock();
    fixture.upstream.fault({ kind: 'hang', times: 1 });
    const gateway = make({
      attemptTimeoutMs: 200,
      retry: { maxRetries: 0 },
      limiter: { maxWaitMs: 500 },
      breaker: { volumeThreshold: 1, resetTimeoutMs: 1_000 },
      models: [
        {
          name: 'm',
          targets: [
            { provider: 'primary', model: 'bad', limits: { maxConcurrent: 1, requestsPerMinute: 2 } },
          ],
        },
      ],
    });
    const first = gateway.chat(ask('m')).catch((error: unknown) => error);
    await pumpUntil(() => fixture.upstream.requests.length === 1);
    // waits for the one slot, its request of the minute taken when it gets it
    const second = gateway.chat(ask('m')).catch((error: unknown) => error);
    await pumpUntil(() => gateway.stats().limiters['primary/bad']?.queued === 1);
    // the first times out, which opens the circuit: the second gets the slot but may not call
    await vi.advanceTimersByTimeAsync(200);
    expect(await pumped(first)).toMatchObject({ code: 'upstream_timeout' });
    expect(await pumped(second)).toMatchObject({ code: 'circuit_open' });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(1);
    // half-open: the probe has the minute's second request, given back by the call that made none
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(pumped(gateway.chat(ask('m')))).resolves.toMatchObject({ object: 'chat.completion' });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(2);
  });

  it('weighs tokens per minute by the estimated tokens of the request', async () => {
    useFakeClock();
    const gateway = make({
      limiter: { maxWaitMs: 100 },
      models: [
        { name: 'm', targets: [{ provider: 'primary', model: 'bad', limits: { tokensPerMinute: 1_000 } }] },
      ],
    });
    await pumped(gateway.chat({ ...ask('m'), max_tokens: 600 }));
    const second = gateway.chat({ ...ask('m'), max_tokens: 600 }).catch((error: unknown) => error);
    await pumpUntil(() => gateway.stats().limiters['primary/bad']?.queued === 1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await pumped(second)).toMatchObject({ code: 'limiter_rejected' });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(1);
    // a minute later the window refills, and the tokens reserved by the request that gave up come back
    await vi.advanceTimersByTimeAsync(60_000);
    await expect(
      pumped(
        Promise.all([
          gateway.chat({ ...ask('m'), max_tokens: 600 }),
          gateway.chat({ ...ask('m'), max_tokens: 300 }),
        ]),
      ),
    ).resolves.toHaveLength(2);
    expect(callsTo(fixture.upstream, '/v1/')).toBe(3);
  });

  it("weighs a max_tokens above the target model's output limit in the model catalog at that limit", async () => {
    useFakeClock();
    // `bad` writes at most 400 tokens; `good` is not in the catalog
    const bad: ModelInfo = {
      id: 'bad',
      provider: 'openai',
      contextWindow: 8_000,
      maxOutputTokens: 400,
      inputModalities: ['text'],
      outputModalities: ['text'],
      supportsTools: true,
    };
    const modelCatalog: ModelCatalog = {
      lookup: (model) => (model === 'bad' ? bad : undefined),
      list: () => [bad],
    };
    const gateway = make({
      limiter: { maxWaitMs: 100 },
      modelCatalog,
      models: [
        { name: 'm', targets: [{ provider: 'primary', model: 'bad', limits: { tokensPerMinute: 1_000 } }] },
        {
          name: 'unknown',
          targets: [{ provider: 'backup', model: 'good', limits: { tokensPerMinute: 1_000 } }],
        },
      ],
    });
    // Claude Code's 32000 would take the whole minute's 1000 tokens alone; capped, two fit
    await expect(
      pumped(
        Promise.all([
          gateway.chat({ ...ask('m'), max_tokens: 32_000 }),
          gateway.chat({ ...ask('m'), max_tokens: 32_000 }),
        ]),
      ),
    ).resolves.toHaveLength(2);
    // capped, not dropped: a third does not fit the minute
    const third = gateway.chat({ ...ask('m'), max_tokens: 32_000 }).catch((error: unknown) => error);
    await pumpUntil(() => gateway.stats().limiters['primary/bad']?.queued === 1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await pumped(third)).toMatchObject({ code: 'limiter_rejected' });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(2);
    // a model the catalog does not know weighs its max_tokens as asked: one takes the minute
    await pumped(gateway.chat({ ...ask('unknown'), max_tokens: 32_000 }));
    const next = gateway.chat({ ...ask('unknown'), max_tokens: 32_000 }).catch((error: unknown) => error);
    await pumpUntil(() => gateway.stats().limiters['backup/good']?.queued === 1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await pumped(next)).toMatchObject({ code: 'limiter_rejected' });
    expect(callsTo(fixture.upstream, '/backup/')).toBe(1);
  });

  it("weighs every choice a call may write: n times the output bound, and a legacy completion's best_of", async () => {
    useFakeClock();
    const gateway = make({
      limiter: { maxWaitMs: 100 },
      models: [
        { name: 'm', targets: [{ provider: 'primary', model: 'bad', limits: { tokensPerMinute: 1_000 } }] },
        {
          name: 'legacy',
          targets: [
            { provider: 'backup', model: 'gpt-3.5-turbo-instruct', limits: { tokensPerMinute: 1_000 } },
          ],
        },
      ],
    });
    // four choices of up to 200 tokens weigh 800 and the prompt, not 200: a call of 200 more does not fit the minute
    await pumped(gateway.chat({ ...ask('m'), n: 4, max_tokens: 200 }));
    const second = gateway.chat({ ...ask('m'), max_tokens: 200 }).catch((error: unknown) => error);
    await pumpUntil(() => gateway.stats().limiters['primary/bad']?.queued === 1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await pumped(second)).toMatchObject({ code: 'limiter_rejected' });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(1);
    // a legacy completion writes (and bills) best_of choices, at least n: 4 of 200 tokens here
    await pumped(gateway.complete({ model: 'legacy', prompt: 'Hello!', max_tokens: 200, n: 2, best_of: 4 }));
    const next = gateway
      .complete({ model: 'legacy', prompt: 'Hello!', max_tokens: 200 })
      .catch((error: unknown) => error);
    await pumpUntil(() => gateway.stats().limiters['backup/gpt-3.5-turbo-instruct']?.queued === 1);
    await vi.advanceTimersByTimeAsync(100);
    expect(await pumped(next)).toMatchObject({ code: 'limiter_rejected' });
    expect(callsTo(fixture.upstream, '/backup/')).toBe(1);
  });
});

describe('the retry budget', () => {
  it('refuses retries beyond its share of live requests and counts it', async () => {
    fixture.upstream.fault({ kind: 'status', status: 500 });
    const gateway = solo({ retry: { budgetPercent: 0, minRetryConcurrency: 0 } });
    await expect(gateway.chat(ask('m'))).rejects.toMatchObject({ code: 'upstream_error' });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(1);
    expect(gateway.stats().counters).toMatchObject({ retries: 0, retryBudgetExhausted: 1 });
  });
});

describe('fallbackOn', () => {
  const tooLong = {
    kind: 'status' as const,
    status: 400,
    body: {
      error: {
        message: "This model's maximum context length is 8192 tokens.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    },
    match: { model: 'bad' },
  };
  const routes = (fallbackOn?: { contextLengthExceeded: boolean }) => [
    {
      name: 'm',
      targets: [{ provider: 'primary', model: 'bad' }],
      fallbacks: ['large'],
      ...(fallbackOn === undefined ? {} : { fallbackOn }),
    },
    { name: 'large', targets: [{ provider: 'backup', model: 'good' }] },
  ];

  it('moves on to a larger model on context_length_exceeded when configured', async () => {
    fixture.upstream.fault(tooLong);
    await expect(
      make({ models: routes({ contextLengthExceeded: true }) }).chat(ask('m')),
    ).resolves.toMatchObject({ model: 'good' });
  });

  it("goes on through every fallback alias by the requested alias's fallbackOn, not by a fallback's own", async () => {
    fixture.upstream.fault(tooLong);
    const gateway = make({
      models: [
        {
          name: 'm',
          targets: [{ provider: 'primary', model: 'bad' }],
          fallbacks: ['mid', 'large'],
          fallbackOn: { contextLengthExceeded: true },
        },
        // a fallback too small as well, with no fallbackOn of its own (its own fallbacks are not tried either)
        { name: 'mid', targets: [{ provider: 'primary', model: 'bad' }] },
        { name: 'large', targets: [{ provider: 'backup', model: 'good' }] },
      ],
    });
    await expect(gateway.chat(ask('m'))).resolves.toMatchObject({ model: 'good' });
    expect(callsTo(fixture.upstream, '/backup/')).toBe(1);
  });

  it('does not by default', async () => {
    fixture.upstream.fault(tooLong);
    await expect(make({ models: routes() }).chat(ask('m'))).rejects.toMatchObject({
      code: 'context_length_exceeded',
      status: 400,
    });
    expect(callsTo(fixture.upstream, '/backup/')).toBe(0);
  });
});

describe('a context made with an abort source', () => {
  it('is cancelled through the source: the upstream call is aborted, the request ends as a client abort', async () => {
    fixture.upstream.fault({ kind: 'hang', times: 1 });
    const source = abortSource();
    // no signal given: the context's signal follows the source
    const context = createRequestContext({ abortSource: source });
    const reply = solo()
      .chat(ask('m'), { context })
      .catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 1);
    const aborted = fixture.upstream.nextAbort();
    const reason = new Error('client went away');
    source.abort(reason);
    await aborted;
    expect(await reply).toMatchObject({ code: 'client_closed_request' });
    expect(context.signal.aborted).toBe(true);
    expect(context.signal.reason).toBe(reason);
  });

  it('is what the engine follows when a signal is given too, and only while the request runs', async () => {
    const gateway = solo();
    const done = abortSource();
    const finished = createRequestContext({ signal: new AbortController().signal, abortSource: done });
    await expect(gateway.chat(ask('m'), { context: finished })).resolves.toMatchObject({
      object: 'chat.completion',
    });
    expect(done.listeners()).toBe(0);

    fixture.upstream.fault({ kind: 'hang', times: 1 });
    const source = abortSource();
    const context = createRequestContext({ signal: new AbortController().signal, abortSource: source });
    const reply = gateway.chat(ask('m'), { context }).catch((error: unknown) => error);
    await upstreamReceived(fixture.upstream, 2);
    source.abort(new Error('client went away'));
    expect(await reply).toMatchObject({ code: 'client_closed_request' });
    expect(source.listeners()).toBe(0);
  });
});

describe('a call given both a context and a signal', () => {
  it('is cancelled by the signal too: the upstream call is aborted, the request ends as a client abort', async () => {
    for (const call of ['chat', 'stream', 'embed'] as const) {
      fixture.upstream.fault({ kind: 'hang', times: 1 });
      const gateway = solo();
      const client = new AbortController();
      const context = createRequestContext();
      const options = { context, signal: client.signal };
      const reply = (
        call === 'chat'
          ? gateway.chat(ask('m'), options)
          : call === 'stream'
            ? gateway.stream(ask('m'), options)
            : gateway.embed({ model: 'm', input: 'Hello!' }, options)
      ).catch((error: unknown) => error);
      await upstreamReceived(fixture.upstream, 1);
      const aborted = fixture.upstream.nextAbort();
      client.abort();
      await aborted;
      expect(await reply, call).toMatchObject({ code: 'client_closed_request' });
      expect(context.error?.code, call).toBe('client_closed_request');
      fixture.upstream.reset();
    }
  });
});
