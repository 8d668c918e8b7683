import { randomUUID } from 'node:crypto';
import { createGateway, type Gateway, type GatewayOptions } from '@switchyard/proxy-core';
import { requireRedisCluster, startRedisCluster, type TestRedisCluster } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, MemoryKeyStore, type AppOptions } from '../src/index';

// Two app instances on one Redis Cluster of three masters, as two gateway processes would share it.
const clusterable = await requireRedisCluster();
const MASTER = 'sy-master-redis-cluster-0123456789';

let redis: TestRedisCluster;
let apps: FastifyInstance[] = [];
const gateways: Gateway[] = [];

beforeAll(async () => {
  if (clusterable) redis = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await redis?.close();
});
afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  apps = [];
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

function gatewayOptions(
  limits?: { requestsPerMinute: number },
  keyPrefix = `t:rc:${randomUUID()}:`,
): GatewayOptions {
  return {
    providers: [{ name: 'mock', type: 'mock' }],
    models: [
      {
        name: 'demo',
        targets: [{ provider: 'mock', model: 'echo', ...(limits === undefined ? {} : { limits }) }],
      },
    ],
    retry: { maxRetries: 0 },
    limiter: {
      maxWaitMs: 1_000,
      redis: { cluster: { nodes: [...redis.nodes] }, keyPrefix, commandTimeoutMs: 5_000 },
    },
  };
}

/**
 * Instances sharing one key store, one key prefix and the cluster for client-key limits, the
 * response cache and key revocations. The command timeout is generous so a burst on a loaded
 * machine never fails over to local limits (the counts would no longer be exact).
 */
async function instances(
  options: Partial<AppOptions> = {},
  count = 2,
  commandTimeoutMs = 5_000,
): Promise<FastifyInstance[]> {
  const keyPrefix = `t:rc:${randomUUID()}:`;
  const store = new MemoryKeyStore();
  const made = Array.from({ length: count }, () =>
    createApp({
      gateway: gatewayOptions(),
      admin: { masterKey: MASTER },
      keyStore: store,
      keySecret: 'redis-cluster-secret-0123456789',
      redis: { cluster: { nodes: [...redis.nodes] }, keyPrefix, commandTimeoutMs },
      context: {
        cache: {
          memory: { maxBytes: 1024 * 1024 },
          redis: { cluster: { nodes: [...redis.nodes] }, keyPrefix: `${keyPrefix}cache:` },
        },
      },
      ...options,
    }),
  );
  apps.push(...made);
  await Promise.all(made.map((app) => app.ready()));
  return made;
}

async function createKey(
  app: FastifyInstance,
  fields: Record<string, unknown>,
): Promise<{ id: string; key: string }> {
  const response = await app.inject({
    method: 'POST',
    url: '/admin/keys',
    headers: { authorization: `Bearer ${MASTER}` },
    payload: { name: 'k', ...fields },
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

/** Keys created until `count` of them keep their limit counters on `count` different masters. */
async function keysOnDistinctNodes(
  app: FastifyInstance,
  fields: Record<string, unknown>,
  count: number,
): Promise<Array<{ id: string; key: string; port: number }>> {
  const byPort = new Map<number, { id: string; key: string; port: number }>();
  for (let made = 0; byPort.size < count; made += 1) {
    if (made === 50) throw new Error(`50 keys did not spread over ${count} masters`);
    const created = await createKey(app, fields);
    // the limit keys are <prefix>limits:{<key id>}:...: the hash tag names the slot
    const port = await redis.portOfKey(created.id);
    if (!byPort.has(port)) byPort.set(port, { ...created, port });
  }
  return [...byPort.values()];
}

const chat = (app: FastifyInstance, key: string, content = 'hi', headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { authorization: `Bearer ${key}`, ...headers },
    payload: { model: 'demo', messages: [{ role: 'user', content }], temperature: 0 },
  });

function whenShared(gateway: Gateway): Promise<void> {
  return new Promise((resolve) => {
    gateway.hooks.onResilienceEvent.tap(`shared-${randomUUID()}`, (event) => {
      if (event.type === 'limiter_mode' && event.mode === 'shared') resolve();
    });
    if (gateway.stats().limiterMode === 'shared') resolve();
  });
}

describe.skipIf(!clusterable)('shared state on a Redis Cluster of three masters', () => {
  it('admits exactly the RPM of each key across two instances, for keys whose counters live on different masters', async () => {
    const [a, b] = await instances();
    const keys = await keysOnDistinctNodes(a!, { rpm: 10 }, 2);
    expect(new Set(keys.map(({ port }) => port)).size).toBe(2);
    const responses = await Promise.all(
      keys.flatMap(({ key }) =>
        Array.from({ length: 30 }, (_, index) =>
          chat(index % 2 === 0 ? a! : b!, key).then((response) => ({ key, response })),
        ),
      ),
    );
    for (const { key } of keys) {
      const statuses = responses
        .filter((entry) => entry.key === key)
        .map(({ response }) => response.statusCode);
      expect(statuses.filter((status) => status === 200)).toHaveLength(10);
      expect(statuses.filter((status) => status === 429)).toHaveLength(20);
    }
    const refused = responses.find(({ response }) => response.statusCode === 429)!.response;
    expect(refused.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    expect(refused.headers['x-ratelimit-remaining-requests']).toBe('0');
  });

  it('refuses on tokens per minute once settled usage reaches the limit, on the other instance', async () => {
    const [a, b] = await instances();
    const [first, second] = await keysOnDistinctNodes(a!, { tpm: 5 }, 2);
    for (const { key } of [first!, second!]) {
      const admitted = await chat(a!, key, 'count my tokens', { 'x-switchyard-cache': 'skip' });
      expect(admitted.statusCode).toBe(200);
      expect(admitted.json<{ usage: { total_tokens: number } }>().usage.total_tokens).toBeGreaterThan(5);
      const refused = await chat(b!, key, 'count my tokens', { 'x-switchyard-cache': 'skip' });
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['x-ratelimit-limit-tokens']).toBe('5');
      expect(refused.headers['x-ratelimit-remaining-tokens']).toBe('0');
    }
  });

  it('reserves a budget atomically: one of 20 concurrent requests fits, and its spend is read back through the other instance', async () => {
    const [a, b] = await instances({ limits: { costEstimator: { estimateMaxCostUsd: () => 1 } } });
    const { id, key } = await createKey(a!, { budget_usd: 1.5, budget_period: 'total' });
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) => chat(index % 2 === 0 ? a! : b!, key, `budget ${index}`)),
    );
    expect(responses.filter((response) => response.statusCode === 200)).toHaveLength(1);
    const refused = responses.filter((response) => response.statusCode === 429);
    expect(refused).toHaveLength(19);
    expect(refused[0]!.json()).toMatchObject({ error: { code: 'budget_exceeded' } });
    const usage = await b!.inject({
      method: 'GET',
      url: `/admin/keys/${id}/usage`,
      headers: { authorization: `Bearer ${MASTER}` },
    });
    expect(usage.json()).toMatchObject({ budget: { spent_usd: 1, reserved_usd: 0 } });
  });

  it('answers from the shared cache tier through the other instance', async () => {
    const [a, b] = await instances();
    const { key } = await createKey(a!, {});
    // several prompts: their cache keys spread over the masters
    for (const content of ['first prompt', 'second prompt', 'third prompt', 'fourth prompt']) {
      const miss = await chat(a!, key, content);
      expect(miss.headers['x-switchyard-cache']).toBe('MISS');
      // the Redis write is off the response path: the other instance sees it once it lands
      await vi.waitFor(
        async () => expect((await chat(b!, key, content)).headers['x-switchyard-cache']).toBe('HIT'),
        { timeout: 5_000, interval: 20 },
      );
      const hit = await chat(b!, key, content);
      expect(hit.body).toBe(miss.body);
    }
  });

  it('reaches the other instance with a revocation through pub/sub', async () => {
    const [a, b] = await instances({ keyCache: { ttlMs: 600_000 } });
    const { id, key } = await createKey(a!, {});
    expect((await chat(b!, key, 'before')).statusCode).toBe(200); // now cached on b
    await a!.inject({
      method: 'POST',
      url: `/admin/keys/${id}/revoke`,
      headers: { authorization: `Bearer ${MASTER}` },
    });
    await vi.waitFor(async () => expect((await chat(b!, key, 'after')).statusCode).toBe(401), {
      timeout: 5_000,
      interval: 20,
    });
  });

  it('shares an upstream RPM limit (bottleneck on the cluster) between two engines', async () => {
    const keyPrefix = `t:rc:${randomUUID()}:limiter:`;
    const engines = [
      createGateway(gatewayOptions({ requestsPerMinute: 6 }, keyPrefix)),
      createGateway(gatewayOptions({ requestsPerMinute: 6 }, keyPrefix)),
    ];
    gateways.push(...engines);
    await Promise.all(engines.map(whenShared));
    const [a, b] = engines.map((gateway) => createApp({ gateway }));
    apps.push(a!, b!);
    const responses = await Promise.all(
      Array.from({ length: 16 }, (_, index) =>
        chat(index % 2 === 0 ? a! : b!, 'unused', `upstream ${index}`),
      ),
    );
    const statuses = responses.map((response) => response.statusCode);
    // one window of one shared limit: 6 upstream calls in all (each engine alone would allow 6)
    expect(statuses.filter((status) => status === 200)).toHaveLength(6);
    expect(
      responses
        .filter((response) => response.statusCode === 429)
        .map((response) => response.json<{ error: { code: string } }>().error.code),
    ).toEqual(Array(10).fill('limiter_rejected'));
    expect(engines.every((gateway) => gateway.stats().limiterMode === 'shared')).toBe(true);
    expect(
      engines[0]!.stats().counters.limiterRejections + engines[1]!.stats().counters.limiterRejections,
    ).toBe(10);
  });

  it('reports the cluster on /ready, then fails open to local limits (or closed with 503) when a master dies', async () => {
    const [open] = await instances({}, 1, 2_000);
    const [closed] = await instances({ limits: { failMode: 'closed' } }, 1, 2_000);
    const keys = await keysOnDistinctNodes(open!, { rpm: 2 }, 3);
    const closedKeys = await keysOnDistinctNodes(closed!, { rpm: 100 }, 3);
    expect((await open!.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({
      status: 'ready',
      checks: { redis: 'ok' },
    });
    expect((await closed!.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    const victim = keys[0]!;
    expect((await chat(open!, victim.key, 'one')).statusCode).toBe(200);
    await redis.kill(victim.port);
    // the dead master's keys fall back to local limits: rpm 2 still holds on this instance
    expect((await chat(open!, victim.key, 'two')).statusCode).toBe(200);
    expect((await chat(open!, victim.key, 'three')).statusCode).toBe(200);
    expect((await chat(open!, victim.key, 'four')).statusCode).toBe(429);
    const ready = await open!.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ checks: { redis: 'down' } });
    const refused = await chat(closed!, closedKeys.find(({ port }) => port === victim.port)!.key, 'refused');
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ error: { code: 'overloaded' } });
    expect((await closed!.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
  });
});

describe('redis options', () => {
  it('refuse a url and a cluster together in one invalid_options error', () => {
    const make = () =>
      createApp({
        gateway: { providers: [{ name: 'mock', type: 'mock' }] },
        redis: { url: 'redis://127.0.0.1:6379', cluster: { nodes: ['redis://127.0.0.1:7000'] } },
      });
    expect(make).toThrow(
      expect.objectContaining({
        code: 'invalid_options',
        message: expect.stringContaining(
          '/redis: set one of url, cluster or client, not url and cluster',
        ) as unknown,
      }),
    );
  });
});
