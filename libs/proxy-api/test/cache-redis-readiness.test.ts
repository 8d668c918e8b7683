import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/create-app';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map(async (instance) => instance.close()));
});

describe("the response cache's Redis breaker in /ready and /metrics", () => {
  it('reports the cache degraded (checks.cacheRedis down, gauge 2) while its Redis tier is skipped, and stays ready', async () => {
    const app = createApp({
      gateway: {
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      },
      context: {
        // port 1 (tcpmux): nothing listens there, every connection is refused
        cache: {
          memory: { maxBytes: 1024 * 1024 },
          redis: {
            url: 'redis://127.0.0.1:1',
            commandTimeoutMs: 100,
            breaker: { failureThreshold: 1, resetTimeoutMs: 600_000 },
          },
        },
      },
      logger: false,
    });
    apps.push(app);
    const before = await app.inject({ method: 'GET', url: '/ready' });
    expect(before.json()).toMatchObject({ status: 'ready', checks: { cacheRedis: 'ok' } });
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(
      /^switchyard_cache_redis_state 0$/m,
    );
    const chat = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }], temperature: 0 },
    });
    expect(chat.statusCode).toBe(200);
    // the engine does not wait out a slow cache lookup: the failure may land after the answer
    await vi.waitFor(
      async () =>
        expect((await app.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({
          checks: { cacheRedis: 'down' },
        }),
      { timeout: 10_000 },
    );
    const during = await app.inject({ method: 'GET', url: '/ready' });
    expect(during.statusCode).toBe(200);
    expect(during.json()).toMatchObject({ status: 'ready' });
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(
      /^switchyard_cache_redis_state 2$/m,
    );
  });

  it('has no cacheRedis check or gauge without a Redis tier', async () => {
    const app = createApp({
      gateway: { providers: [{ name: 'mock', type: 'mock' }] },
      context: { cache: { memory: { maxBytes: 1024 * 1024 } } },
      logger: false,
    });
    apps.push(app);
    expect(
      (await app.inject({ method: 'GET', url: '/ready' })).json<{ checks: Record<string, string> }>().checks,
    ).not.toHaveProperty('cacheRedis');
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).not.toContain(
      'switchyard_cache_redis_state',
    );
  });
});
