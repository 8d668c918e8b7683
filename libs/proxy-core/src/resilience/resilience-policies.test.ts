import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SwitchyardError } from '../errors/switchyard-error';
import { silentLogger } from '../options/logger';
import type { BreakerStateMessage, ResilienceEvent } from './resilience-events';
import { ResiliencePolicies } from './resilience-policies';

const policies = (maxBreakers: number): ResiliencePolicies =>
  new ResiliencePolicies({
    logger: silentLogger,
    emit: () => undefined,
    maxBreakers,
    breaker: { volumeThreshold: 1, errorThresholdPercentage: 50 },
  });

const fail = (): Promise<never> => Promise.reject(new SwitchyardError('upstream_error', 'down'));

afterEach(() => {
  vi.useRealTimers();
});

/** Policies whose breakers open on one failure and half-open after 1 s, with `p/configured` a configured route's target. */
function watchedPolicies(): {
  resilience: ResiliencePolicies;
  messages: BreakerStateMessage[];
  events: ResilienceEvent[];
  stop: () => void;
} {
  const messages: BreakerStateMessage[] = [];
  const events: ResilienceEvent[] = [];
  const onMessage = (message: unknown): void => void messages.push(message as BreakerStateMessage);
  subscribe('switchyard:breaker:state', onMessage);
  const resilience = new ResiliencePolicies({
    logger: silentLogger,
    emit: (event) => events.push(event),
    breaker: { volumeThreshold: 1, errorThresholdPercentage: 50, resetTimeoutMs: 1_000 },
    configuredTargets: new Set(['p/configured']),
  });
  return { resilience, messages, events, stop: () => unsubscribe('switchyard:breaker:state', onMessage) };
}

describe('ResiliencePolicies', () => {
  it('drops the open circuit of a target no route configures once unused for two reset timeouts, and reports it closed', async () => {
    vi.useFakeTimers();
    const { resilience, messages, events, stop } = watchedPolicies();
    try {
      for (const key of ['p/client-named', 'p/configured'])
        await resilience
          .breaker(key)
          ?.run(fail)
          .catch(() => undefined);
      expect(resilience.stats().breakers).toEqual({ 'p/client-named': 'open', 'p/configured': 'open' });
      await vi.advanceTimersByTimeAsync(1_000);
      expect(resilience.stats().breakers).toEqual({
        'p/client-named': 'half-open',
        'p/configured': 'half-open',
      });
      // no call probes the client-named target: it would stay half-open (in the store and the metric) for good
      await vi.advanceTimersByTimeAsync(1_000);
      expect(resilience.stats().breakers).toEqual({ 'p/configured': 'half-open' });
      expect(resilience.breakerCount).toBe(1);
      expect(messages.filter((m) => m.target === 'p/client-named').map((m) => m.state)).toEqual([
        'open',
        'half-open',
        'closed',
      ]);
      expect(events).toContainEqual({
        type: 'breaker_state',
        target: 'p/client-named',
        state: 'closed',
        previous: 'half-open',
      });
      // a configured target's half-open circuit waits for its next call, as before
      await vi.advanceTimersByTimeAsync(10_000);
      expect(resilience.stats().breakers).toEqual({ 'p/configured': 'half-open' });
      // the next call to the client-named target starts with a closed circuit of its own
      await expect(resilience.breaker('p/client-named')?.run(() => Promise.resolve('ok'))).resolves.toBe(
        'ok',
      );
      expect(resilience.stats().breakers['p/client-named']).toBe('closed');
    } finally {
      stop();
      await resilience.close();
    }
  });

  it('keeps a half-open circuit of a target no route configures while calls use it', async () => {
    vi.useFakeTimers();
    const { resilience, stop } = watchedPolicies();
    try {
      await resilience
        .breaker('p/client-named')
        ?.run(fail)
        .catch(() => undefined);
      await vi.advanceTimersByTimeAsync(1_000);
      let finish: (value: string) => void = () => undefined;
      const probe = resilience
        .breaker('p/client-named')
        ?.run(() => new Promise<string>((resolve) => (finish = resolve)));
      // the probe outlives the reset timeouts: its breaker is in use, so it stays
      await vi.advanceTimersByTimeAsync(5_000);
      expect(resilience.stats().breakers).toEqual({ 'p/client-named': 'half-open' });
      finish('ok');
      await expect(probe).resolves.toBe('ok');
      expect(resilience.stats().breakers).toEqual({ 'p/client-named': 'closed' });
    } finally {
      stop();
      await resilience.close();
    }
  });

  it('keeps a bounded number of breakers however many direct model names clients send', async () => {
    const resilience = policies(3);
    try {
      for (let i = 0; i < 50; i++)
        await resilience.breaker(`openai/client-chosen-${i}`)?.run(() => Promise.resolve(i));
      expect(resilience.breakerCount).toBe(3);
      expect(Object.keys(resilience.stats().breakers)).toEqual([
        'openai/client-chosen-47',
        'openai/client-chosen-48',
        'openai/client-chosen-49',
      ]);
    } finally {
      await resilience.close();
    }
  });

  it('drops closed breakers only, least recently used first: an open circuit is kept', async () => {
    const resilience = policies(2);
    try {
      const dead = resilience.breaker('p/dead');
      await dead
        ?.run(() => Promise.reject(new SwitchyardError('upstream_error', 'down')))
        .catch(() => undefined);
      expect(dead?.state).toBe('open');
      for (let i = 0; i < 5; i++) await resilience.breaker(`p/other-${i}`)?.run(() => Promise.resolve(i));
      expect(resilience.breaker('p/dead')).toBe(dead);
      expect(resilience.breakerCount).toBe(2);
    } finally {
      await resilience.close();
    }
  });

  it('a breaker dropped while its call waited still runs the call', async () => {
    const resilience = policies(1);
    try {
      const first = resilience.breaker('p/a');
      resilience.breaker('p/b');
      await expect(first?.run(() => Promise.resolve('answered'))).resolves.toBe('answered');
    } finally {
      await resilience.close();
    }
  });
});
