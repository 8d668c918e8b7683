import { afterEach, describe, expect, it, vi } from 'vitest';
import { useGatewayFixture } from '../../test/support/gateway-fixture';
import { ask, callsTo, gatewayFor, nextEvent, pumped, useFakeClock } from '../../test/resilience-harness';
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

  it("retries a pass that called no one while a target waits out its Retry-After, and gets that target's answer", async () => {
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
    // pass 1: a 429s, b 500s and its circuit opens; pass 2, after the jitter: a still waits, b is
    // open. Before, that pass ended the request with b's circuit_open
    await expect(pumped(gateway.chat(ask('m')))).resolves.toMatchObject({ model: 'bad' });
    expect([callsTo(fixture.upstream, '/v1/'), callsTo(fixture.upstream, '/backup/')]).toEqual([2, 4]);
    expect(gateway.stats().counters.retries - retried).toBe(2);
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
