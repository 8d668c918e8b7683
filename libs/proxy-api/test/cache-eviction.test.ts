import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  requireService,
  startRedisServer,
  TEST_REDIS_URL,
  UNTIL_SETTLED,
  type TestRedisServer,
} from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { ResponseCache, ResponseCacheStats } from '@switchyard/proxy-context';
import { createApp, type AppOptions } from '../src/index';
import { dropRedisKeys } from './support/redis-keys';

const redisUp = await requireService('Redis', TEST_REDIS_URL);
// Redis is stopped and started under an app: a redis-server of the test's own
const serverBinary = spawnSync('redis-server', ['--version']).status === 0;

const apps: FastifyInstance[] = [];
const sides: Redis[] = [];
const prefixes: string[] = [];
const servers: TestRedisServer[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map(async (app) => app.close()));
  for (const side of sides.splice(0)) side.disconnect();
  await Promise.all(servers.splice(0).map(async (server) => server.stop()));
});
afterAll(async () => {
  if (redisUp) await dropRedisKeys(prefixes);
});

/** The response cache's counters of an app, read from the routes' scope (where the context plugins are). */
type CacheStats = () => ResponseCacheStats;

function cacheStatsOf(app: FastifyInstance): CacheStats {
  let cache: ResponseCache | undefined;
  app.addHook('onRequest', (request, _reply, done) => {
    cache ??= request.server.switchyardContext?.cache;
    done();
  });
  return () => {
    if (cache === undefined) throw new Error('no request has reached the response cache yet');
    return cache.stats();
  };
}

/**
 * Two gateway instances sharing the response cache's Redis tier; with `evictions`, also the app's
 * Redis (limits, key invalidation, and the cache eviction channel), without it no eviction channel.
 */
async function twoInstances(evictions = true): Promise<{
  a: FastifyInstance;
  b: FastifyInstance;
  statsOfB: CacheStats;
  cacheEntry: () => Promise<string>;
}> {
  const keyPrefix = `t:evict:${randomBytes(6).toString('hex')}:`;
  prefixes.push(keyPrefix);
  const options: AppOptions = {
    gateway: {
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
    },
    ...(evictions ? { redis: { url: TEST_REDIS_URL, keyPrefix } } : {}),
    context: {
      cache: {
        memory: { maxBytes: 1024 * 1024 },
        redis: { url: TEST_REDIS_URL, keyPrefix: `${keyPrefix}cache:` },
      },
    },
    logger: false,
  };
  const a = createApp(options);
  const b = createApp(options);
  apps.push(a, b);
  const statsOfB = cacheStatsOf(b);
  await Promise.all([a.ready(), b.ready()]);
  const side = new Redis(TEST_REDIS_URL);
  sides.push(side);
  // the one entry's stored body (small: not compressed), '' while there is none
  const cacheEntry = async (): Promise<string> => {
    const [key, ...others] = await side.keys(`${keyPrefix}cache:*`);
    if (key === undefined) return '';
    expect(others).toEqual([]);
    return (await side.getBuffer(key))?.toString('utf8') ?? '';
  };
  return { a, b, statsOfB, cacheEntry };
}

/** One chat completion of the same request; its answer's id and the cache's verdict. */
async function ask(
  app: FastifyInstance,
  headers: Record<string, string> = {},
): Promise<{ id: string; cache: unknown }> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers,
    payload: { model: 'demo', messages: [{ role: 'user', content: 'refresh me' }], temperature: 0 },
  });
  expect(response.statusCode).toBe(200);
  return { id: response.json<{ id: string }>().id, cache: response.headers['x-switchyard-cache'] };
}

/**
 * a stores an answer, b reads it from Redis and then serves it from its memory tier (so a fresh
 * answer in Redis alone would not reach b's clients), then a refreshes it; the fresh answer, once
 * in Redis.
 */
async function refreshOnA(
  a: FastifyInstance,
  b: FastifyInstance,
  statsOfB: CacheStats,
  cacheEntry: () => Promise<string>,
): Promise<{ old: string; fresh: string }> {
  const old = await ask(a);
  expect(old.cache).toBe('MISS');
  // the write to Redis is off the response path: b asks once it is there
  await vi.waitFor(async () => expect(await cacheEntry()).toContain(old.id), UNTIL_SETTLED);
  expect(await ask(b)).toEqual({ id: old.id, cache: 'HIT' });
  expect(statsOfB()).toMatchObject({ redisHits: 1, memoryHits: 0 });
  expect(await ask(b)).toEqual({ id: old.id, cache: 'HIT' });
  expect(statsOfB()).toMatchObject({ redisHits: 1, memoryHits: 1 });

  const fresh = await ask(a, { 'cache-control': 'no-cache' });
  expect(fresh.cache).toBe('MISS');
  expect(fresh.id).not.toBe(old.id);
  await vi.waitFor(async () => expect(await cacheEntry()).toContain(fresh.id), UNTIL_SETTLED);
  return { old: old.id, fresh: fresh.id };
}

describe.skipIf(!redisUp)('a response cache refresh across instances sharing Redis', () => {
  it('Cache-Control: no-cache on one instance evicts the memory copy of the others: they answer the fresh entry', async () => {
    const { a, b, statsOfB, cacheEntry } = await twoInstances();
    const { fresh } = await refreshOnA(a, b, statsOfB, cacheEntry);
    // once a's eviction reached b, b reads the fresh answer from Redis and keeps it in memory
    await vi.waitFor(async () => expect(await ask(b)).toEqual({ id: fresh, cache: 'HIT' }), UNTIL_SETTLED);
    expect(statsOfB().redisHits).toBe(2);
    expect(await ask(b)).toEqual({ id: fresh, cache: 'HIT' });
    // a keeps its fresh answer in memory: its own eviction is not applied to it
    expect(await ask(a)).toEqual({ id: fresh, cache: 'HIT' });
  });

  it('without the eviction channel (no app Redis), the others serve their memory copy of the replaced entry', async () => {
    const { a, b, statsOfB, cacheEntry } = await twoInstances(false);
    const { old } = await refreshOnA(a, b, statsOfB, cacheEntry);
    // the fresh answer is in Redis, but b answers from memory: what the eviction channel prevents
    expect(await ask(b)).toEqual({ id: old, cache: 'HIT' });
    expect(statsOfB()).toMatchObject({ redisHits: 1, memoryHits: 2 });
  });
});

/** The value of an unlabelled series on `/metrics`, or undefined when it is not there. */
async function gauge(app: FastifyInstance, name: string): Promise<number | undefined> {
  const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const line = body.split('\n').find((text) => text.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function subscription(app: FastifyInstance): Promise<{ ready: unknown; gauge: number | undefined }> {
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  // degraded, never failing: the instance serves on
  expect(ready.statusCode).toBe(200);
  return {
    ready: ready.json<{ checks: Record<string, string> }>().checks['cacheEviction'],
    gauge: await gauge(app, 'switchyard_cache_eviction_subscribed'),
  };
}

describe.skipIf(!serverBinary)('the response cache eviction subscription on /ready and /metrics', () => {
  it('reports it subscribed, down while Redis is away, and subscribed again once Redis is back', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const app = createApp({
      gateway: {
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      },
      redis: { url: server.url, keyPrefix: 'sy:evict:' },
      context: { cache: { memory: { maxBytes: 1024 * 1024 }, redis: { url: server.url } } },
      logger: false,
    });
    apps.push(app);
    await app.ready();
    expect(await subscription(app)).toEqual({ ready: 'ok', gauge: 1 });

    await server.stop();
    await vi.waitFor(
      async () => expect(await subscription(app)).toEqual({ ready: 'down', gauge: 0 }),
      UNTIL_SETTLED,
    );

    servers.push(await startRedisServer(server.port));
    await vi.waitFor(async () => expect(await subscription(app)).toEqual({ ready: 'ok', gauge: 1 }), {
      timeout: 10_000,
      interval: 50,
    });
  });

  it('has neither without a Redis tier in the cache (nothing to evict)', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const app = createApp({
      gateway: {
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      },
      redis: { url: server.url, keyPrefix: 'sy:evict:' },
      context: { cache: { memory: { maxBytes: 1024 * 1024 } } },
      logger: false,
    });
    apps.push(app);
    await app.ready();
    expect(await subscription(app)).toEqual({ ready: undefined, gauge: undefined });
  });
});
