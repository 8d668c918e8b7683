import { randomUUID } from 'node:crypto';
import {
  createGateway,
  createRequestContext,
  type ChatCompletionRequest,
  type Gateway,
} from '@switchyard/proxy-core';
import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResponseCache, type ResponseCache } from '../src/cache/response-cache';
import { decodeBody, encodeBody } from '../src/cache/redis-tier';
import { cacheKey } from '../src/cache/cache-key';

const redisUp = await requireService('Redis', TEST_REDIS_URL);

describe.skipIf(!redisUp)('response cache on real Redis', () => {
  const prefix = `test:${randomUUID()}:`;
  let admin: Redis;
  const caches: ResponseCache[] = [];

  function instance(maxEntryBytes?: number): Gateway {
    const cache = createResponseCache({
      memory: { maxBytes: 1024 * 1024 },
      redis: { url: TEST_REDIS_URL, keyPrefix: prefix },
      compressAboveBytes: 256,
      ttlMs: 120_000,
      ...(maxEntryBytes === undefined ? {} : { maxEntryBytes }),
    });
    caches.push(cache);
    return createGateway({
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      plugins: [cache],
    });
  }

  beforeAll(() => {
    admin = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
    await Promise.all(caches.map(async (cache) => cache.close()));
  });

  it('shares answers between two gateway instances; a Redis hit fills the memory tier', async () => {
    const a = instance();
    const b = instance();
    const request: ChatCompletionRequest = {
      model: 'demo',
      messages: [{ role: 'user', content: `shared ${'x'.repeat(400)}` }],
      temperature: 0,
    };
    const first = createRequestContext({ metadata: { apiKeyId: 'k' } });
    const answer = await a.chat(request, { context: first });
    expect(first.cacheStatus).toBe('MISS');
    // the write to Redis is off the response path: wait until it is there
    await expect.poll(async () => (await admin.keys(`${prefix}*`)).length).toBe(1);
    const [key] = await admin.keys(`${prefix}*`);
    const ttl = await admin.pttl(key!);
    expect(ttl).toBeGreaterThan(100_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
    const second = createRequestContext({ metadata: { apiKeyId: 'k' } });
    expect(await b.chat(request, { context: second })).toEqual(answer);
    expect(second.cacheStatus).toBe('HIT');
    expect(caches[1]!.stats()).toMatchObject({ redisHits: 1, memoryHits: 0 });
    await b.chat(request, { context: createRequestContext({ metadata: { apiKeyId: 'k' } }) });
    expect(caches[1]!.stats()).toMatchObject({ redisHits: 1, memoryHits: 1 });
    // another tenant does not read it, even from Redis
    const stranger = createRequestContext({ metadata: { apiKeyId: 'other' } });
    await b.chat(request, { context: stranger });
    expect(stranger.cacheStatus).toBe('MISS');
  });

  it('publishes the key of an entry a refresh replaced once Redis holds it: an instance that evicts it reads the fresh answer from Redis', async () => {
    const a = instance();
    const b = instance();
    const [cacheA, cacheB] = caches.slice(-2) as [ResponseCache, ResponseCache];
    const published: string[] = [];
    cacheA.setEvictionPublisher({
      publish: (key) => {
        published.push(key);
        cacheB.evict(key);
      },
    });
    const request: ChatCompletionRequest = {
      model: 'demo',
      messages: [{ role: 'user', content: `refreshed ${randomUUID()}` }],
      temperature: 0,
    };
    const context = (directives?: { cache: 'refresh' }) =>
      createRequestContext({
        metadata: { apiKeyId: 'k' },
        ...(directives === undefined ? {} : { directives }),
      });
    const entry = `${prefix}default:${cacheKey(request, 'default|key:k', 'response')}`;
    const old = await a.chat(request, { context: context() });
    // the write to Redis is off the response path: wait until it is there
    await expect.poll(async () => admin.exists(entry)).toBe(1);
    // b reads it from Redis, and keeps it in memory
    const first = context();
    expect((await b.chat(request, { context: first })).id).toBe(old.id);
    expect(first.cacheStatus).toBe('HIT');
    expect(published).toEqual([]);
    const fresh = await a.chat(request, { context: context({ cache: 'refresh' }) });
    expect(fresh.id).not.toBe(old.id);
    await expect.poll(() => published.length).toBe(1);
    const again = context();
    expect((await b.chat(request, { context: again })).id).toBe(fresh.id);
    expect(again.cacheStatus).toBe('HIT');
  });

  it('publishes a refresh only when it replaced an entry: in Redis (EXISTS and SET in one MULTI), not when none was there', async () => {
    const a = instance();
    const b = instance();
    const [cacheA, cacheB] = caches.slice(-2) as [ResponseCache, ResponseCache];
    const publishedByA: string[] = [];
    const publishedByB: string[] = [];
    cacheA.setEvictionPublisher({ publish: (key) => publishedByA.push(key) });
    cacheB.setEvictionPublisher({ publish: (key) => publishedByB.push(key) });
    const request: ChatCompletionRequest = {
      model: 'demo',
      messages: [{ role: 'user', content: `refreshed from nothing ${randomUUID()}` }],
      temperature: 0,
    };
    const refresh = () =>
      createRequestContext({ metadata: { apiKeyId: 'k' }, directives: { noCache: true } });
    const entry = `${prefix}default:${cacheKey(request, 'default|key:k', 'response')}`;
    // no entry anywhere: stored, nothing to evict elsewhere
    await a.chat(request, { context: refresh() });
    await expect.poll(async () => admin.exists(entry)).toBe(1);
    // b holds nothing in memory, but Redis held a's entry: replaced, published. Redis answers
    // a's write before b's, so a's decision is made by the time b's publication is seen
    await b.chat(request, { context: refresh() });
    await expect.poll(() => publishedByB.length).toBe(1);
    expect(publishedByB).toEqual([cacheKey(request, 'default|key:k', 'response')]);
    expect(publishedByA).toEqual([]);
  });

  it('deletes the entry a refresh was to replace from Redis (DEL) when its fresh answer is too large to store, and publishes it', async () => {
    const a = instance();
    // an instance whose entries may be smaller than the answer: its refresh cannot store it
    const b = instance(600);
    const cacheB = caches.at(-1)!;
    const published: string[] = [];
    cacheB.setEvictionPublisher({ publish: (key) => published.push(key) });
    const request: ChatCompletionRequest = {
      model: 'demo',
      messages: [{ role: 'user', content: `too large to refresh ${randomUUID()} ${'y'.repeat(150)}` }],
      temperature: 0,
    };
    const context = (directives?: { noCache: true }) =>
      createRequestContext({
        metadata: { apiKeyId: 'k' },
        ...(directives === undefined ? {} : { directives }),
      });
    const entry = `${prefix}default:${cacheKey(request, 'default|key:k', 'response')}`;
    await a.chat(request, { context: context() });
    await expect.poll(async () => admin.exists(entry)).toBe(1);
    await b.chat(request, { context: context({ noCache: true }) });
    await expect.poll(async () => admin.exists(entry)).toBe(0);
    await expect.poll(() => published.length).toBe(1);
    expect(cacheB.stats().redis).toMatchObject({ oversized: 1 });
    const next = context();
    await b.chat(request, { context: next });
    expect(next.cacheStatus).toBe('MISS');
  });

  it('takes a host:port Redis address, as the limiter and the app do (it was refused as not matching ^rediss?://)', async () => {
    const { hostname, port } = new URL(TEST_REDIS_URL);
    const cache = createResponseCache({
      memory: { maxBytes: 1024 * 1024 },
      redis: { url: `${hostname}:${port || '6379'}`, keyPrefix: `${prefix}host-port:` },
      ttlMs: 120_000,
    });
    caches.push(cache);
    const gateway = createGateway({
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      plugins: [cache],
    });
    const request: ChatCompletionRequest = {
      model: 'demo',
      messages: [{ role: 'user', content: `host-port ${randomUUID()}` }],
      temperature: 0,
    };
    await gateway.chat(request, { context: createRequestContext({ metadata: { apiKeyId: 'k' } }) });
    await expect.poll(async () => (await admin.keys(`${prefix}host-port:*`)).length).toBe(1);
  });

  it('names a Redis address ioredis cannot use without echoing it', () => {
    expect(() =>
      createResponseCache({
        memory: { maxBytes: 1024 * 1024 },
        redis: { url: 'redis://:secret-pw@cache:99999' },
      }),
    ).toThrow(/^(?!.*secret-pw).*\/redis\/url: is not a valid URL: the port 99999 is not in 0-65535/s);
  });

  it('compresses large bodies and round-trips them', async () => {
    const body = JSON.stringify({ text: 'y'.repeat(10_000) });
    const encoded = await encodeBody(body, 256);
    expect(encoded[0]).toBe(1);
    expect(encoded.length).toBeLessThan(1000);
    expect(await decodeBody(encoded)).toBe(body);
    expect((await encodeBody('{}', 256))[0]).toBe(0);
  });
});

describe('response cache with Redis away', () => {
  it('keeps answering from memory and counts the errors', async () => {
    const cache = createResponseCache({
      memory: { maxBytes: 1024 * 1024 },
      redis: { url: 'redis://127.0.0.1:1', commandTimeoutMs: 50 },
    });
    const gateway = createGateway({
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      plugins: [cache],
    });
    const request: ChatCompletionRequest = {
      model: 'demo',
      messages: [{ role: 'user', content: 'offline' }],
      temperature: 0,
    };
    await gateway.chat(request, { context: createRequestContext() });
    const again = createRequestContext();
    await gateway.chat(request, { context: again });
    expect(again.cacheStatus).toBe('HIT');
    expect(cache.stats().redisErrors).toBeGreaterThan(0);
    await cache.close();
  });
});
