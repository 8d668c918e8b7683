import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../errors/switchyard-error';
import { silentLogger } from '../options/logger';
import { ResiliencePolicies } from './resilience-policies';

const policies = (maxBreakers: number): ResiliencePolicies => new ResiliencePolicies({ logger: silentLogger, emit: () => undefined, maxBreakers, breaker: { volumeThreshold: 1, errorThresholdPercentage: 50 } });

describe('ResiliencePolicies', () => {
  it('keeps a bounded number of breakers however many direct model names clients send', async () => {
    const resilience = policies(3);
    try {
      for (let i = 0; i < 50; i++) await resilience.breaker(`openai/client-chosen-${i}`)?.run(() => Promise.resolve(i));
      expect(resilience.breakerCount).toBe(3);
      expect(Object.keys(resilience.stats().breakers)).toEqual(['openai/client-chosen-47', 'openai/client-chosen-48', 'openai/client-chosen-49']);
    } finally {
      await resilience.close();
    }
  });

  it('drops closed breakers only, least recently used first: an open circuit is kept', async () => {
    const resilience = policies(2);
    try {
      const dead = resilience.breaker('p/dead');
      await dead?.run(() => Promise.reject(new SwitchyardError('upstream_error', 'down'))).catch(() => undefined);
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
