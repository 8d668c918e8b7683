import { afterEach, describe, expect, it, vi } from 'vitest';
import { useGatewayFixture } from '../../test/support/gateway-fixture';
import {
  ask,
  callsTo,
  gatewayFor,
  nextEvent,
  pumped,
  pumpUntil,
  useFakeClock,
} from '../../test/resilience-harness';
import type { Gateway } from './create-gateway';
import type { GatewayOptions } from './gateway-options';
import { createRequestContext } from './request-context';

const fixture = useGatewayFixture();

/**
 * Alias `m`, ordered: `primary/bad` (a), then `backup/good` (b). A circuit opens once three calls
 * in its window failed, so one 429 of a's leaves a's closed.
 */
function pair(extra: Partial<GatewayOptions> = {}): Gateway {
  return fixture.track(
    gatewayFor(fixture.upstream, {
      breaker: { volumeThreshold: 3, errorThresholdPercentage: 50 },
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
    }),
  );
}

/**
 * Opens the circuit of `backup/good` with 500s to direct requests (on the fake clock, for their
 * backoffs); returns what the last of them got.
 */
async function openBackup(gateway: Gateway): Promise<unknown> {
  fixture.upstream.fault({ kind: 'status', status: 500, match: { path: '/backup/' } });
  let outcome: unknown;
  for (let i = 0; i < 3 && gateway.stats().breakers['backup/good'] !== 'open'; i++)
    outcome = await pumped(gateway.chat(ask('backup/good')).catch((error: unknown) => error));
  expect(gateway.stats().breakers['backup/good']).toBe('open');
  return outcome;
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('a request whose last target was never called', () => {
  it("waits out the upstream's Retry-After when the only other target's circuit is open, then gets its answer", async () => {
    useFakeClock();
    const gateway = pair();
    await openBackup(gateway);
    fixture.upstream.fault({
      kind: 'status',
      status: 429,
      headers: { 'retry-after-ms': '1500' },
      times: 1,
      match: { model: 'bad' },
    });
    const retry = nextEvent(gateway, 'retry');
    const context = createRequestContext();
    const reply = gateway.chat(ask('m'), { context });
    // before, the open circuit counted as a target callable at once: the retry came after the
    // jitter alone, found the 429'd target still paused and ended with the circuit's 503
    expect((await retry).delayMs).toBe(1500);
    await vi.advanceTimersByTimeAsync(1500);
    await expect(reply).resolves.toMatchObject({ object: 'chat.completion' });
    expect(callsTo(fixture.upstream, '/v1/')).toBe(2);
    expect(context.provider).toBe('primary');
  });

  it("waits out a target's Retry-After when the other's failure opened its circuit, with no pass that calls no one between", async () => {
    useFakeClock();
    const gateway = pair();
    // two failures of three calls in the backup's window: its next failure opens its circuit
    fixture.upstream.fault({ kind: 'status', status: 500, times: 2, match: { path: '/backup/' } });
    await expect(pumped(gateway.chat(ask('backup/good')))).resolves.toMatchObject({ model: 'good' });
    const retried = gateway.stats().counters.retries;
    fixture.upstream.fault({ kind: 'status', status: 500, times: 1, match: { path: '/backup/' } });
    fixture.upstream.fault({
      kind: 'status',
      status: 429,
      headers: { 'retry-after-ms': '1500' },
      times: 1,
      match: { model: 'bad' },
    });
    const retry = nextEvent(gateway, 'retry');
    const reply = gateway.chat(ask('m'));
    // pass 1: a 429s, b 500s and its circuit opens. Before, b counted as callable at once: pass 2
    // came after the jitter alone, found a still waiting and b open, called no one and spent a
    // round; the request went on to a third pass
    expect((await retry).delayMs).toBe(1500);
    await expect(pumped(reply)).resolves.toMatchObject({ model: 'bad' });
    expect([callsTo(fixture.upstream, '/v1/'), callsTo(fixture.upstream, '/backup/')]).toEqual([2, 4]);
    expect(gateway.stats().counters.retries - retried).toBe(1);
  });

  it("ends at once with the failure that opened its only target's circuit: no retry waits for an open circuit", async () => {
    useFakeClock();
    const gateway = pair({ breaker: { volumeThreshold: 1, errorThresholdPercentage: 1 } });
    fixture.upstream.fault({ kind: 'status', status: 500, match: { path: '/backup/' } });
    const context = createRequestContext();
    await expect(pumped(gateway.chat(ask('backup/good'), { context }))).rejects.toMatchObject({
      code: 'upstream_error',
    });
    // before, a retry came after the backoff, found the circuit open and ended the same way
    expect(context.attempts.map((attempt) => [attempt.error?.code, attempt.called])).toEqual([
      ['upstream_error', true],
    ]);
    expect(gateway.stats().counters).toMatchObject({ retries: 0, retryBudgetExhausted: 0 });
  });

  it("holds no share of the retry budget in a pass that calls no one: another request's retry is not refused", async () => {
    useFakeClock();
    // no jitter: each wait is what a target asked for, or none
    vi.spyOn(Math, 'random').mockReturnValue(0);
    // one retry in progress at a time, gateway-wide
    const gateway = pair({
      retry: { budgetPercent: 0, minRetryConcurrency: 1 },
      limiter: { maxWaitMs: 0 },
      models: [
        {
          name: 'm',
          strategy: 'ordered',
          targets: [
            { provider: 'primary', model: 'bad' },
            { provider: 'backup', model: 'good', limits: { requestsPerMinute: 2 } },
          ],
        },
      ],
    });
    // spends the first of the backup's two requests of the minute
    await expect(pumped(gateway.chat(ask('backup/good')))).resolves.toMatchObject({ model: 'good' });
    fixture.upstream.fault({
      kind: 'status',
      status: 429,
      headers: { 'retry-after-ms': '1500' },
      times: 1,
      match: { model: 'bad' },
    });
    fixture.upstream.fault({ kind: 'status', status: 500, times: 1, match: { path: '/backup/' } });
    const waits: number[] = [];
    const waiting = new Promise<void>((resolve) =>
      gateway.hooks.onResilienceEvent.tap('waits', (event) => {
        if (event.type !== 'retry') return;
        waits.push(event.delayMs);
        if (waits.length === 2) resolve();
      }),
    );
    const retried = gateway.stats().counters.retries;
    // pass 1: a 429s (wait 1.5 s), b 500s with its second request of the minute; pass 2, at once:
    // a still waits and b's limiter refuses, so no one is called; pass 3 calls a after its wait
    const first = gateway.chat(ask('m'));
    await pumpUntil(() => waits.length === 2);
    await waiting;
    // the second wait is what is left of a's 1.5 s (the fake clock moved on while pumping)
    expect(waits[0]).toBe(0);
    expect(waits[1]).toBeGreaterThan(1000);
    // while the first request waits out a's Retry-After, another fails once and retries: before,
    // the first request held the one retry of the budget through its pass that called no one and
    // this wait, and the second was refused its retry
    fixture.upstream.fault({ kind: 'status', status: 500, times: 1, match: { model: 'other' } });
    await expect(pumped(gateway.chat(ask('primary/other')))).resolves.toMatchObject({ model: 'other' });
    await expect(pumped(first)).resolves.toMatchObject({ model: 'bad' });
    expect(gateway.stats().counters).toMatchObject({ retryBudgetExhausted: 0 });
    // the pass that called no one still counts against maxRetries: a request cannot go round for ever
    expect(gateway.stats().counters.retries - retried).toBe(3);
    expect(gateway.stats().activeRetries).toBe(0);
  });

  it("ends with the upstream's 429 and its Retry-After, not the open circuit of a target it never called", async () => {
    useFakeClock();
    const gateway = pair({ retry: { maxRetries: 0 } });
    await openBackup(gateway);
    fixture.upstream.fault({
      kind: 'status',
      status: 429,
      headers: { 'retry-after-ms': '1500' },
      times: 1,
      match: { model: 'bad' },
    });
    const context = createRequestContext();
    await expect(gateway.chat(ask('m'), { context })).rejects.toMatchObject({
      code: 'upstream_rate_limited',
      status: 429,
      retryAfterMs: 1500,
    });
    expect(
      context.attempts.map((attempt) => [attempt.provider, attempt.error?.code, attempt.called]),
    ).toEqual([
      ['primary', 'upstream_rate_limited', true],
      ['backup', 'circuit_open', false],
    ]);
    // the row, the metrics and provider health blame the target that answered
    expect({ provider: context.provider, model: context.upstreamModel }).toEqual({
      provider: 'primary',
      model: 'bad',
    });
  });

  it("ends with the upstream's error, not the limiter refusal of a target it never called", async () => {
    const gateway = pair({
      retry: { maxRetries: 0 },
      limiter: { maxWaitMs: 0 },
      models: [
        {
          name: 'm',
          strategy: 'ordered',
          targets: [
            { provider: 'primary', model: 'bad' },
            { provider: 'backup', model: 'good', limits: { requestsPerMinute: 1 } },
          ],
        },
      ],
    });
    // spends the backup's one request of the minute
    await expect(gateway.chat(ask('backup/good'))).resolves.toMatchObject({ model: 'good' });
    fixture.upstream.fault({ kind: 'status', status: 500, times: 1, match: { model: 'bad' } });
    const context = createRequestContext();
    await expect(gateway.chat(ask('m'), { context })).rejects.toMatchObject({ code: 'upstream_error' });
    expect(
      context.attempts.map((attempt) => [attempt.provider, attempt.error?.code, attempt.called]),
    ).toEqual([
      ['primary', 'upstream_error', true],
      ['backup', 'limiter_rejected', false],
    ]);
    expect(context.provider).toBe('primary');
  });

  it("ends with the upstream's failure of an earlier pass when the retry finds the target's circuit open", async () => {
    useFakeClock();
    const gateway = pair({ breaker: { volumeThreshold: 1, errorThresholdPercentage: 1 } });
    // the 500 opened the circuit; the retry's pass found it open and called no one
    expect(await openBackup(gateway)).toMatchObject({ code: 'upstream_error' });
  });

  it('still ends with circuit_open when no target was called at all', async () => {
    useFakeClock();
    const gateway = pair({
      retry: { maxRetries: 0 },
      breaker: { volumeThreshold: 1, errorThresholdPercentage: 1 },
    });
    await openBackup(gateway);
    fixture.upstream.fault({ kind: 'status', status: 500, times: 1, match: { model: 'bad' } });
    await expect(gateway.chat(ask('primary/bad'))).rejects.toMatchObject({ code: 'upstream_error' });
    const context = createRequestContext();
    await expect(gateway.chat(ask('m'), { context })).rejects.toMatchObject({
      code: 'circuit_open',
      status: 503,
    });
    expect(context.attempts.map((attempt) => attempt.called)).toEqual([false, false]);
    expect(context.provider).toBe('backup');
  });
});

describe('the retry budget', () => {
  it('is given back by a retry pass whose target its limiter refused, for the rest of the pass', async () => {
    useFakeClock();
    const gateway = pair({
      limiter: { maxWaitMs: 0 },
      models: [
        {
          name: 'm',
          strategy: 'ordered',
          targets: [
            { provider: 'primary', model: 'bad', limits: { requestsPerMinute: 2 } },
            { provider: 'backup', model: 'good' },
          ],
        },
      ],
    });
    await openBackup(gateway);
    // spends the first of a's two requests of the minute
    await expect(pumped(gateway.chat(ask('primary/bad')))).resolves.toMatchObject({ model: 'bad' });
    fixture.upstream.fault({ kind: 'status', status: 500, times: 1, match: { model: 'bad' } });
    const held: number[] = [];
    gateway.hooks.onResilienceEvent.tap('held', (event) => {
      if (event.type === 'breaker_rejected') held.push(gateway.stats().activeRetries);
    });
    // pass 1: a 500s with its second request of the minute, b's circuit is open; pass 2: a's
    // limiter refuses it (its share taken for it goes back), b's circuit is still open
    await expect(pumped(gateway.chat(ask('m')))).rejects.toMatchObject({ code: 'upstream_error' });
    expect(held).toEqual([0, 0]);
    expect(gateway.stats().counters).toMatchObject({ retryBudgetExhausted: 0 });
    expect(gateway.stats().activeRetries).toBe(0);
  });
});

describe('a target whose failure another pass cannot change', () => {
  it('is called once a request: rejected credentials are not tried again on every retry pass', async () => {
    useFakeClock();
    const gateway = pair({ retry: { maxRetries: 2 } });
    fixture.upstream.fault({ kind: 'status', status: 401, match: { model: 'bad' } });
    fixture.upstream.fault({ kind: 'status', status: 500, match: { path: '/backup/' } });
    await expect(pumped(gateway.chat(ask('m')))).rejects.toMatchObject({ code: 'upstream_error' });
    // before, each of the three passes called the target whose key the upstream refused
    expect([callsTo(fixture.upstream, '/v1/'), callsTo(fixture.upstream, '/backup/')]).toEqual([1, 3]);
  });
});
