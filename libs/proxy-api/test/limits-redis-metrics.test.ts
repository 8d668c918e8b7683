import { spawnSync } from 'node:child_process';
import { startRedisServer, UNTIL_SETTLED, type TestRedisServer } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/index';

// Redis is stopped and started under the app: a redis-server of the test's own
const serverBinary = spawnSync('redis-server', ['--version']).status === 0;
const KEY = 'sk-sy-metrics-redis-0123456789';

const apps: FastifyInstance[] = [];
const servers: TestRedisServer[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** The value of an unlabelled series on `/metrics`, or undefined when it is not there. */
async function gauge(app: FastifyInstance, name: string): Promise<number | undefined> {
  const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = body.split('\n').find((text) => text.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** An app whose `demo` answers wait at `afterResponse` until released: a request stays admitted meanwhile. */
function heldApp(url: string): { app: FastifyInstance; reached: Promise<void>; release: () => void } {
  let release = (): void => undefined;
  let reached = (): void => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  const app = createApp({
    gateway: {
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      plugins: [
        {
          name: 'test:hold-answer',
          apply(hooks) {
            hooks.afterResponse.tapPromise('test:hold-answer', async (response) => {
              reached();
              await held;
              return response;
            });
          },
        },
      ],
    },
    keys: [{ key: KEY, name: 'held', maxParallel: 1, budget: { usd: 100, period: 'total' } }],
    // the mock model has no price: a request that runs is charged its reservation, 0.25
    limits: { defaultReservationUsd: 0.25 },
    redis: { url, keyPrefix: 'sy:metrics:' },
    logger: false,
  });
  apps.push(app);
  return { app, reached: arrived, release };
}

describe.skipIf(!serverBinary)('limit and key-invalidation gauges on /metrics', () => {
  it('counts the releases and the spend Redis missed while it was down, and the key-invalidation subscription, until Redis is back', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const { app, reached, release } = heldApp(server.url);
    await app.ready();
    expect(await gauge(app, 'switchyard_limit_pending_releases')).toBe(0);
    expect(await gauge(app, 'switchyard_limit_owed_spend_usd')).toBe(0);
    expect(await gauge(app, 'switchyard_key_invalidation_subscribed')).toBe(1);

    // admitted on Redis (a max_parallel slot and a reservation), then Redis goes away before it settles
    const chat = app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { authorization: `Bearer ${KEY}` },
      payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
    });
    await reached;
    await server.stop();
    release();
    expect((await chat).statusCode).toBe(200);
    await vi.waitFor(async () => {
      expect(await gauge(app, 'switchyard_limit_pending_releases')).toBe(1);
      expect(await gauge(app, 'switchyard_limit_owed_spend_usd')).toBe(0.25);
      expect(await gauge(app, 'switchyard_key_invalidation_subscribed')).toBe(0);
    }, UNTIL_SETTLED);

    servers.push(await startRedisServer(server.port));
    await vi.waitFor(
      async () => {
        expect(await gauge(app, 'switchyard_limit_pending_releases')).toBe(0);
        expect(await gauge(app, 'switchyard_limit_owed_spend_usd')).toBe(0);
        expect(await gauge(app, 'switchyard_key_invalidation_subscribed')).toBe(1);
      },
      { timeout: 10_000, interval: 50 },
    );
  });

  it('has none of these gauges without Redis', async () => {
    const app = createApp({
      gateway: { providers: [{ name: 'mock', type: 'mock' }] },
      keys: [{ key: KEY, name: 'plain' }],
      logger: false,
    });
    apps.push(app);
    const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).not.toMatch(/switchyard_limit_pending_releases|switchyard_limit_owed_spend_usd/);
    expect(body).not.toContain('switchyard_key_invalidation_subscribed');
  });
});
