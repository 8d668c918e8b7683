import { describe, expect, it } from 'vitest';
import { resilienceOptions } from '../start-gateway';
import { validateConfig } from './load-config';

const base = {
  providers: [{ name: 'mock', type: 'mock' }],
  models: [
    {
      name: 'm',
      targets: [{ provider: 'mock', model: 'x', limits: { requestsPerMinute: 60 } }],
      strategy: 'round-robin',
    },
  ],
};

describe('routing and resilience sections of the config file', () => {
  it('accepts retry, breaker, limiter, routing and redis, and shares limits through the redis section', async () => {
    const config = await validateConfig(
      {
        ...base,
        streamIdleTimeoutMs: 10_000,
        routing: { explorationRate: 0.05 },
        retry: { maxRetries: 1, budgetPercent: 10 },
        breaker: { volumeThreshold: 5 },
        limiter: { maxWaitMs: 500 },
        redis: { url: '${REDIS_URL}' },
      },
      { REDIS_URL: 'redis://127.0.0.1:6390' },
      'test',
    );
    expect(resilienceOptions(config)).toMatchObject({
      limiter: { maxWaitMs: 500, redis: { url: 'redis://127.0.0.1:6390' } },
      retry: { maxRetries: 1 },
      streamIdleTimeoutMs: 10_000,
    });
  });

  it("refuses a redis.commandTimeoutMs below the limiter's 10 ms in validation, not only when start builds the limiter", async () => {
    await expect(
      validateConfig({ ...base, redis: { url: 'redis://127.0.0.1:6390', commandTimeoutMs: 5 } }, {}, 'test'),
    ).rejects.toThrow(/\/redis\/commandTimeoutMs/);
    await expect(
      validateConfig({ ...base, redis: { url: 'redis://127.0.0.1:6390', commandTimeoutMs: 10 } }, {}, 'test'),
    ).resolves.toBeDefined();
  });

  it('reports unknown fields and the engine checks in one error', async () => {
    await expect(
      validateConfig({ ...base, breaker: { volumeThreshold: 0, sometimes: true } }, {}, 'test'),
    ).rejects.toThrow(/\/breaker/);
    await expect(
      validateConfig(
        {
          ...base,
          models: [{ name: 'c', strategy: 'lowest-cost', targets: [{ provider: 'mock', model: 'x' }] }],
        },
        {},
        'test',
      ),
    ).rejects.toThrow(/"lowest-cost" needs a costEstimator/);
  });
});
