import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway/create-gateway';
import { ask, callsTo, collect, gatewayFor, textOf } from './resilience-harness';

let upstream: MockUpstream;
let gateway: Gateway;

beforeAll(async () => {
  upstream = await createMockUpstream({ streamChunks: 3 });
  gateway = gatewayFor(upstream, {
    breaker: {
      volumeThreshold: 20,
      errorThresholdPercentage: 50,
      resetTimeoutMs: 600_000,
      rollingWindowMs: 600_000,
    },
    models: [
      { name: 'chat', targets: [{ provider: 'primary', model: 'down' }], fallbacks: ['spare'] },
      { name: 'spare', targets: [{ provider: 'backup', model: 'up' }] },
    ],
  });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

describe('a failing primary with a healthy fallback', () => {
  it('serves 2,000 requests, streamed and not, with no client-visible error', async () => {
    upstream.fault({ kind: 'status', status: 500, match: { model: 'down' } });
    const errors: unknown[] = [];
    const one = async (i: number): Promise<void> => {
      try {
        if (i % 2 === 0) {
          const reply = await gateway.chat(ask('chat'));
          if (reply.model !== 'up') errors.push(new Error(`answered by ${reply.model}`));
        } else {
          const text = textOf(await collect(await gateway.stream(ask('chat'))));
          if (!text.includes('Hello there')) errors.push(new Error(`stream text: ${text}`));
        }
      } catch (error) {
        errors.push(error);
      }
    };
    const total = 2_000;
    const concurrency = 25;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) await one(next++);
      }),
    );
    expect(errors).toEqual([]);
    expect(callsTo(upstream, '/backup/')).toBe(total);
    // the breaker opened after its volume (plus what was already in flight), then spared the primary
    expect(gateway.stats().breakers['primary/down']).toBe('open');
    expect(callsTo(upstream, '/v1/')).toBeLessThan(20 + concurrency);
    expect(gateway.stats().counters.breakerRejections).toBe(total - callsTo(upstream, '/v1/'));
    expect(gateway.stats().counters.retries).toBe(0);
  }, 180_000);
});
