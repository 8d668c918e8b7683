import { randomUUID } from 'node:crypto';
import { type ChatCompletionRequest, type GatewayPlugin } from '@switchyard/proxy-core';
import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCacheEntry, responseEntryBody } from './cache-entry';
import { cacheKey } from './cache-key';
import { RESPONSE_CACHE_DEFAULTS, type ResponseCacheOptions } from './response-cache-options';
import { encodeBody, type RedisCacheClient, type RedisCacheTransaction } from './redis-tier';
import { cacheContext, cacheGateway, collect } from '../../test/support/cache-gateway';

// A hit reports the upstream model that produced the cached answer (the request log's
// resolved_model), never a provider, and what that answer cost as what the hit saved; entries
// stored without them are still served.

const request: ChatCompletionRequest = {
  model: 'demo',
  messages: [{ role: 'user', content: 'which model answered?' }],
  temperature: 0,
};

const redisUp = await requireService('Redis', TEST_REDIS_URL);
let redis: Redis;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await redis.quit();
});

/** The real Redis client, and the writes the cache sent through it (they are off the response path). */
function recordingClient(): { client: RedisCacheClient; writes: Promise<unknown>[] } {
  const writes: Promise<unknown>[] = [];
  const client: RedisCacheClient = {
    getBuffer: async (key) => redis.getBuffer(key),
    // a refresh's write is EXISTS and SET in one transaction, any other a plain SET
    multi: () => {
      const transaction = redis.multi();
      let writing = false;
      const recorded: RedisCacheTransaction = {
        getBuffer: (key) => {
          transaction.getBuffer(key);
          return recorded;
        },
        pttl: (key) => {
          transaction.pttl(key);
          return recorded;
        },
        exists: (key) => {
          transaction.exists(key);
          return recorded;
        },
        set: (key, value, px, ms) => {
          writing = true;
          transaction.set(key, value, px, ms);
          return recorded;
        },
        exec: () => {
          const done = transaction.exec();
          if (writing) writes.push(done);
          return done;
        },
      };
      return recorded;
    },
    set: (key, value, px, ms) => {
      const write = redis.set(key, value, px, ms);
      writes.push(write);
      return write;
    },
    quit: async () => undefined,
  };
  return { client, writes };
}

const setup = (options: Partial<ResponseCacheOptions> = {}) => cacheGateway(options);
const ctx = () => cacheContext();

describe('the model that produced a cached answer', () => {
  it('is the resolved model of a memory hit, whole or streamed, with no provider and no attempt', async () => {
    const { gateway, upstreamCalls } = setup();
    await gateway.chat(request, { context: ctx() });
    await collect(await gateway.stream(request, { context: ctx() }));
    const whole = ctx();
    await gateway.chat(request, { context: whole });
    const streamed = ctx();
    await collect(await gateway.stream(request, { context: streamed }));
    expect(upstreamCalls()).toBe(2);
    for (const hit of [whole, streamed]) {
      expect(hit).toMatchObject({ cacheStatus: 'HIT', cacheHit: true, upstreamModel: 'echo', attempts: [] });
      expect(hit.provider).toBeUndefined();
    }
  });

  it.skipIf(!redisUp)('travels with the entry through Redis to another instance', async () => {
    const namespace = `model-${randomUUID()}`;
    const writer = recordingClient();
    const first = setup({ namespace, redis: { client: writer.client } });
    await first.gateway.chat(request, { context: ctx() });
    await collect(await first.gateway.stream(request, { context: ctx() }));
    await Promise.all(writer.writes);
    expect(writer.writes).toHaveLength(2);
    // another instance: an empty memory tier, the same Redis
    const second = setup({ namespace, redis: { client: recordingClient().client } });
    const whole = ctx();
    await second.gateway.chat(request, { context: whole });
    const streamed = ctx();
    await collect(await second.gateway.stream(request, { context: streamed }));
    expect(second.upstreamCalls()).toBe(0);
    expect(second.cache.stats()).toMatchObject({ hits: 2, redisHits: 2 });
    for (const hit of [whole, streamed]) {
      expect(hit).toMatchObject({ cacheStatus: 'HIT', upstreamModel: 'echo' });
      expect(hit.provider).toBeUndefined();
    }
  });

  it.skipIf(!redisUp)(
    'is unknown for an entry stored before it was kept: the entry is still served, with no model',
    async () => {
      const namespace = `model-${randomUUID()}`;
      const donor = setup();
      const answer = await donor.gateway.chat(request, { context: ctx() });
      // the body the cache wrote before entries kept their model
      const old = `{"kind":"response","response":${JSON.stringify(answer)},"expiresAt":${Date.now() + 60_000}}`;
      const key = cacheKey(request, `${namespace}|key:key-a`, 'response');
      await redis.set(
        `${RESPONSE_CACHE_DEFAULTS.redisKeyPrefix}${namespace}:${key}`,
        await encodeBody(old, RESPONSE_CACHE_DEFAULTS.compressAboveBytes),
        'PX',
        60_000,
      );
      const { gateway, cache, upstreamCalls } = setup({
        namespace,
        redis: { client: recordingClient().client },
      });
      const hit = ctx();
      const served = await gateway.chat(request, { context: hit });
      expect(served).toEqual(answer);
      expect(upstreamCalls()).toBe(0);
      expect(cache.stats()).toMatchObject({ hits: 1, redisHits: 1 });
      expect(hit).toMatchObject({ cacheStatus: 'HIT', cacheHit: true });
      expect(hit.upstreamModel).toBeUndefined();
      expect(hit.provider).toBeUndefined();
    },
  );
});

/** A pricing tap ahead of the cache: every answer the upstream gave costs `cost`. */
function pricedAt(cost: number | null): GatewayPlugin {
  return {
    name: 'test:pricing',
    apply: (hooks) =>
      hooks.onUsage.tap('test:pricing', (report, context) => {
        context.costUsd = report.cached ? 0 : cost;
      }),
  };
}

describe('what a cache hit saved', () => {
  it('is what the answer cost when the miss stored it, whole or streamed; a miss saved nothing', async () => {
    const { gateway } = cacheGateway({}, [pricedAt(0.0375)]);
    const missWhole = ctx();
    await gateway.chat(request, { context: missWhole });
    const missStreamed = ctx();
    await collect(await gateway.stream(request, { context: missStreamed }));
    const whole = ctx();
    await gateway.chat(request, { context: whole });
    const streamed = ctx();
    await collect(await gateway.stream(request, { context: streamed }));
    for (const miss of [missWhole, missStreamed]) {
      expect(miss).toMatchObject({ cacheStatus: 'MISS', costUsd: 0.0375 });
      expect(miss.cacheSavedUsd).toBeUndefined();
    }
    for (const hit of [whole, streamed])
      expect(hit).toMatchObject({ cacheHit: true, costUsd: 0, cacheSavedUsd: 0.0375 });
  });

  it('is unknown when the answer had no known price', async () => {
    const { gateway } = cacheGateway({}, [pricedAt(null)]);
    await gateway.chat(request, { context: ctx() });
    const hit = ctx();
    await gateway.chat(request, { context: hit });
    expect(hit.cacheHit).toBe(true);
    expect(hit.cacheSavedUsd).toBeUndefined();
  });

  it.skipIf(!redisUp)('travels with the entry through Redis to another instance', async () => {
    const namespace = `saved-${randomUUID()}`;
    const writer = recordingClient();
    await cacheGateway({ namespace, redis: { client: writer.client } }, [pricedAt(1.5)]).gateway.chat(
      request,
      {
        context: ctx(),
      },
    );
    await Promise.all(writer.writes);
    const second = cacheGateway({ namespace, redis: { client: recordingClient().client } }, [pricedAt(1.5)]);
    const hit = ctx();
    await second.gateway.chat(request, { context: hit });
    expect(second.upstreamCalls()).toBe(0);
    expect(hit).toMatchObject({ cacheHit: true, costUsd: 0, cacheSavedUsd: 1.5 });
  });

  it('ignores a stored cost that is not a finite, non-negative number (a stored value is untrusted): the entry is served', () => {
    const body = (cost: string) =>
      `{"kind":"response","response":{"id":"x"},"expiresAt":1,"model":"echo","cost":${cost}}`;
    const costOf = (text: string) => {
      const entry = parseCacheEntry(text);
      expect(entry).toMatchObject({ kind: 'response', model: 'echo' });
      return entry === undefined ? 'not an entry' : entry.cost;
    };
    expect(costOf(body('0.5'))).toBe(0.5);
    expect(costOf(body('0'))).toBe(0);
    for (const bad of ['-1', '"0.5"', 'null', '1e400', '{}']) expect(costOf(body(bad)), bad).toBeUndefined();
  });

  it('is not written for a cost that is not a finite, non-negative number', () => {
    for (const cost of [null, Number.NaN, Number.POSITIVE_INFINITY, -2])
      expect(responseEntryBody('{"id":"x"}', 1, { model: 'echo', cost })).toBe(
        '{"kind":"response","response":{"id":"x"},"expiresAt":1,"model":"echo"}',
      );
  });
});
