import { silentLogger, type RedisClient } from '@switchyard/proxy-core';
import type { CacheEvictionPublisher } from '@switchyard/proxy-context';
import { describe, expect, it } from 'vitest';
import type { RedisConnection } from '../redis/redis-connection';
import type { RedisSubscriptionHandlers } from '../redis/redis-subscription';
import { connectCacheEviction, type EvictableCache } from './cache-eviction';

/** A connection that records what is published and hands the subscription's handlers to the test. */
function fakeRedis(): {
  redis: RedisConnection;
  published: Array<[string, string]>;
  handlers: () => RedisSubscriptionHandlers;
} {
  const published: Array<[string, string]> = [];
  let subscribed: RedisSubscriptionHandlers | undefined;
  const client = {
    publish: async (channel: string, message: string) => void published.push([channel, message]),
  } as unknown as RedisClient;
  const redis: RedisConnection = {
    client,
    keyPrefix: 'sy:',
    commandTimeoutMs: 500,
    run: (command) => command(client),
    subscribe(_channel, handlers) {
      subscribed = handlers;
      return { subscribed: true, firstSubscribed: Promise.resolve(), close: () => undefined };
    },
    ping: async () => undefined,
    close: async () => undefined,
  };
  return {
    redis,
    published,
    handlers: () => {
      if (subscribed === undefined) throw new Error('not subscribed');
      return subscribed;
    },
  };
}

/** A cache recording the evictions it is told of. */
function recordingCache(): {
  cache: EvictableCache;
  events: string[];
  publisher: () => CacheEvictionPublisher;
} {
  const events: string[] = [];
  let publisher: CacheEvictionPublisher | undefined;
  const cache: EvictableCache = {
    setEvictionPublisher: (given) => void (publisher = given),
    evict: (key) => void events.push(`evict ${key}`),
    clear: () => void events.push('clear'),
  };
  return {
    cache,
    events,
    publisher: () => {
      if (publisher === undefined) throw new Error('no publisher');
      return publisher;
    },
  };
}

describe('response cache eviction over Redis pub/sub', () => {
  it("applies other instances' evictions, not its own, and empties the memory tier when it subscribes again after a loss", async () => {
    const { redis, published, handlers } = fakeRedis();
    const { cache, events, publisher } = recordingCache();
    connectCacheEviction(cache, redis, silentLogger);
    publisher().publish('abc123');
    await Promise.resolve();
    expect(published).toHaveLength(1);
    const [channel, own] = published[0]!;
    expect(channel).toBe('sy:cache:evict');
    expect(own).toMatch(/^[A-Za-z0-9_-]+:abc123$/);
    handlers().onSubscribed?.();
    handlers().onMessage(own);
    handlers().onMessage('another-instance:def456');
    handlers().onMessage('not-a-message');
    expect(events).toEqual(['evict def456']);
    // evictions published while unsubscribed were missed
    handlers().onUnsubscribed?.();
    handlers().onSubscribed?.();
    expect(events).toEqual(['evict def456', 'clear']);
  });
});
