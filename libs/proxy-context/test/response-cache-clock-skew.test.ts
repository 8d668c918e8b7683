import { randomUUID } from 'node:crypto';
import { createRequestContext, type ChatCompletionRequest } from '@switchyard/proxy-core';
import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responseEntryBody } from '../src/cache/cache-entry';
import { cacheKey } from '../src/cache/cache-key';
import type { ResponseCache } from '../src/cache/response-cache';
import { encodeBody, type RedisCacheClient } from '../src/cache/redis-tier';
import { cacheGateway } from './support/cache-gateway';

// Instances sharing a Redis tier rarely agree on the time to the second, and a VM's clock can be
// minutes off after a pause: how long an entry lives must not depend on any one of their clocks.

const redisUp = await requireService('Redis', TEST_REDIS_URL);
const TTL_MS = 60_000;
const MINUTE = 60_000;

describe.skipIf(!redisUp)('response cache entries shared by instances whose clocks disagree', () => {
  const prefix = `test:skew:${randomUUID()}:`;
  let admin: Redis;
  const caches: ResponseCache[] = [];

  beforeAll(() => {
    admin = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
    await Promise.all(caches.map(async (cache) => cache.close()));
  });

  /** An instance whose clock is `clock()`, on the namespace `namespace` of the shared Redis. */
  function instance(namespace: string, clock: () => number) {
    const made = cacheGateway({
      namespace,
      ttlMs: TTL_MS,
      now: clock,
      redis: { url: TEST_REDIS_URL, keyPrefix: prefix },
    });
    caches.push(made.cache);
    return made;
  }

  const request = (content: string): ChatCompletionRequest => ({
    model: 'demo',
    messages: [{ role: 'user', content }],
    temperature: 0,
  });

  async function lookup(
    made: ReturnType<typeof instance>,
    content: string,
  ): Promise<'HIT memory' | 'HIT redis' | 'MISS'> {
    const before = made.cache.stats();
    const context = createRequestContext({ metadata: { apiKeyId: 'key-a' } });
    await made.gateway.chat(request(content), { context });
    if (context.cacheStatus !== 'HIT') return 'MISS';
    return made.cache.stats().memoryHits > before.memoryHits ? 'HIT memory' : 'HIT redis';
  }

  /** The Redis key of the namespace's only entry, once the writer's off-path SET has landed. */
  async function storedKey(namespace: string): Promise<string> {
    await expect.poll(async () => (await admin.keys(`${prefix}${namespace}:*`)).length).toBe(1);
    const [key] = await admin.keys(`${prefix}${namespace}:*`);
    return key!;
  }

  it("does not keep an entry in memory past its TTL when the writer's clock is 10 minutes fast", async () => {
    const namespace = `ns-${randomUUID()}`;
    let readerNow = Date.now();
    const writer = instance(namespace, () => Date.now() + 10 * MINUTE);
    const reader = instance(namespace, () => readerNow);
    expect(await lookup(writer, 'fast writer')).toBe('MISS');
    const key = await storedKey(namespace);
    expect(await lookup(reader, 'fast writer')).toBe('HIT redis');
    readerNow += 30_000;
    expect(await lookup(reader, 'fast writer')).toBe('HIT memory');
    // five minutes on, Redis has long expired the key: the memory tier must not answer either
    readerNow += 5 * MINUTE;
    await admin.del(key);
    expect(await lookup(reader, 'fast writer')).toBe('MISS');
  });

  it('serves a Redis hit to a reader whose clock is 2 minutes fast (more than the TTL)', async () => {
    const namespace = `ns-${randomUUID()}`;
    const writer = instance(namespace, () => Date.now());
    const reader = instance(namespace, () => Date.now() + 2 * MINUTE);
    await lookup(writer, 'fast reader');
    await storedKey(namespace);
    expect(await lookup(reader, 'fast reader')).toBe('HIT redis');
    expect(await lookup(reader, 'fast reader')).toBe('HIT memory');
  });

  it("holds a Redis hit in memory for the key's remaining TTL, not the stored deadline", async () => {
    const namespace = `ns-${randomUUID()}`;
    let readerNow = Date.now();
    const writer = instance(namespace, () => Date.now());
    const reader = instance(namespace, () => readerNow);
    await lookup(writer, 'remaining');
    const key = await storedKey(namespace);
    // Redis counts the 30 s in real time while the reader's clock stands still: the memory hit
    // 15 s on holds while the read comes less than 15 s after the PEXPIRE, the miss 35 s on
    // whatever the delay (the stored deadline, a minute on, would still have answered)
    await admin.pexpire(key, 30_000);
    expect(await lookup(reader, 'remaining')).toBe('HIT redis');
    readerNow += 15_000;
    expect(await lookup(reader, 'remaining')).toBe('HIT memory');
    readerNow += 20_000;
    await admin.del(key);
    expect(await lookup(reader, 'remaining')).toBe('MISS');
  });

  it('reads through a client without multi() with a plain GET, held in memory until the stored deadline', async () => {
    const namespace = `ns-${randomUUID()}`;
    let readerNow = Date.now();
    const writer = instance(namespace, () => Date.now());
    // a wrapper or test double of the interface's other commands: no MULTI, so no PTTL
    const client: RedisCacheClient = {
      getBuffer: async (key) => admin.getBuffer(key),
      set: async (key, value, px, ms) => admin.set(key, value, px, ms),
      quit: async () => undefined,
    };
    const reader = cacheGateway({
      namespace,
      ttlMs: TTL_MS,
      now: () => readerNow,
      redis: { client, keyPrefix: prefix },
    });
    caches.push(reader.cache);
    await lookup(writer, 'no multi');
    const key = await storedKey(namespace);
    expect(await lookup(reader, 'no multi')).toBe('HIT redis');
    expect(reader.cache.stats()).toMatchObject({ redisErrors: 0, redis: { state: 'closed', failed: 0 } });
    // without PTTL the writer's deadline, a minute from its write, is what the reader goes by
    await admin.del(key);
    readerNow += 45_000;
    expect(await lookup(reader, 'no multi')).toBe('HIT memory');
    readerNow += 75_000;
    expect(await lookup(reader, 'no multi')).toBe('MISS');
    expect(reader.cache.stats()).toMatchObject({ redisErrors: 0, redis: { failed: 0 } });
  });

  it('serves an entry written as before by the TTL Redis keeps, whatever its stored deadline; a key without a TTL by that deadline', async () => {
    const donor = instance(`ns-${randomUUID()}`, () => Date.now());
    const answer = await donor.gateway.chat(request('as before'), {
      context: createRequestContext({ metadata: { apiKeyId: 'key-a' } }),
    });
    // what a writer stores: the body keeps its deadline (for readers of earlier versions)
    const store = async (namespace: string, expiresAt: number, ttlMs?: number) => {
      const key = `${prefix}${namespace}:${cacheKey(request('as before'), `${namespace}|key:key-a`, 'response')}`;
      const body = await encodeBody(responseEntryBody(JSON.stringify(answer), expiresAt), 8192);
      await (ttlMs === undefined ? admin.set(key, body) : admin.set(key, body, 'PX', ttlMs));
    };
    // written by an instance whose clock is an hour behind: its deadline passed by this clock
    const behind = `ns-${randomUUID()}`;
    await store(behind, Date.now() - 60 * MINUTE + TTL_MS, TTL_MS);
    expect(
      await lookup(
        instance(behind, () => Date.now()),
        'as before',
      ),
    ).toBe('HIT redis');
    // no TTL in Redis (not the cache's writing): the stored deadline is all there is
    const past = `ns-${randomUUID()}`;
    await store(past, Date.now() - 1_000);
    expect(
      await lookup(
        instance(past, () => Date.now()),
        'as before',
      ),
    ).toBe('MISS');
    const future = `ns-${randomUUID()}`;
    await store(future, Date.now() + MINUTE);
    expect(
      await lookup(
        instance(future, () => Date.now()),
        'as before',
      ),
    ).toBe('HIT redis');
  });
});
