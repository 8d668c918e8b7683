import { randomBytes } from 'node:crypto';
import { requireService, TEST_REDIS_URL, UNTIL_SETTLED } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, type AppOptions } from '../src/index';
import { dropRedisKeys } from './support/redis-keys';

const redisUp = await requireService('Redis', TEST_REDIS_URL);

const apps: FastifyInstance[] = [];
const sides: Redis[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map(async (app) => app.close()));
  for (const side of sides.splice(0)) side.disconnect();
});
afterAll(async () => {
  if (redisUp) await dropRedisKeys(prefixes);
});

/** Two gateway instances sharing Redis: limits and key invalidation, and the response cache's Redis tier. */
async function twoInstances(): Promise<{
  a: FastifyInstance;
  b: FastifyInstance;
  cacheEntries: () => Promise<number>;
}> {
  const keyPrefix = `t:evict:${randomBytes(6).toString('hex')}:`;
  prefixes.push(keyPrefix);
  const options: AppOptions = {
    gateway: {
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
    },
    redis: { url: TEST_REDIS_URL, keyPrefix },
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
  await Promise.all([a.ready(), b.ready()]);
  const side = new Redis(TEST_REDIS_URL);
  sides.push(side);
  const cacheEntries = async (): Promise<number> => (await side.keys(`${keyPrefix}cache:*`)).length;
  return { a, b, cacheEntries };
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

describe.skipIf(!redisUp)('a response cache refresh across instances sharing Redis', () => {
  it('Cache-Control: no-cache on one instance evicts the memory copy of the others: they answer the fresh entry', async () => {
    const { a, b, cacheEntries } = await twoInstances();
    const old = await ask(a);
    expect(old.cache).toBe('MISS');
    // the write to Redis is off the response path: b asks once it is there, and keeps it in memory
    await vi.waitFor(async () => expect(await cacheEntries()).toBe(1), UNTIL_SETTLED);
    expect(await ask(b)).toEqual({ id: old.id, cache: 'HIT' });
    expect(await ask(b)).toEqual({ id: old.id, cache: 'HIT' });

    const fresh = await ask(a, { 'cache-control': 'no-cache' });
    expect(fresh.cache).toBe('MISS');
    expect(fresh.id).not.toBe(old.id);
    // once a's fresh answer is in Redis and its eviction reached b
    await vi.waitFor(async () => expect(await ask(b)).toEqual({ id: fresh.id, cache: 'HIT' }), UNTIL_SETTLED);
    // a keeps its fresh answer in memory: its own eviction is not applied to it
    expect(await ask(a)).toEqual({ id: fresh.id, cache: 'HIT' });
  });
});
