import { randomBytes } from 'node:crypto';
import type { ResponseCache } from '@switchyard/proxy-context';
import type { Logger } from '@switchyard/proxy-core';
import type { RedisConnection } from '../redis/redis-connection';
import type { RedisSubscription } from '../redis/redis-subscription';

/** What the eviction channel needs of the response cache. */
export type EvictableCache = Pick<ResponseCache, 'setEvictionPublisher' | 'evict' | 'clear'>;

/**
 * Wires the response cache to Redis pub/sub, so that a refresh on one instance reaches the
 * memory tier of the others: an entry replaced by a request that skipped the read
 * (`Cache-Control: no-cache`, `x-switchyard-cache: refresh`) is published once its fresh answer
 * is in Redis, or once the entry was deleted when the fresh answer could not be stored (too
 * large), and every other instance drops its memory copy on receipt (its next lookup reads
 * the fresh one from Redis, or misses). Messages are `<instance>:<entry key>` (the key is a hash: no
 * request content); an instance ignores its own. Pub/sub delivers only to connections subscribed
 * when the message is published, so each time the subscription is established again (after Redis
 * or the connection was down) the memory tier is emptied: an eviction published meanwhile was
 * missed, and the entries are read again from Redis. Returns the subscription, which keeps
 * (re)subscribing in the background until the connection closes.
 */
export function connectCacheEviction(
  cache: EvictableCache,
  redis: RedisConnection,
  logger: Logger,
): RedisSubscription {
  const channel = `${redis.keyPrefix}cache:evict`;
  // names this instance's messages: it holds the fresh answer already
  const origin = randomBytes(9).toString('base64url');
  let failing = false;
  cache.setEvictionPublisher({
    publish(key) {
      redis
        .run((client) => client.publish(channel, `${origin}:${key}`))
        .then(
          () => {
            failing = false;
          },
          (error: unknown) => {
            // once a streak: a refresh per request during an outage would log a line each
            if (failing) return;
            failing = true;
            logger.warn(
              { err: { message: (error as Error).message }, channel },
              'could not publish a response cache eviction: other instances serve their memory copy of the refreshed entry until its TTL',
            );
          },
        );
    },
  });
  let lost = false;
  return redis.subscribe(channel, {
    onMessage(message) {
      const colon = message.indexOf(':');
      if (colon <= 0 || message.slice(0, colon) === origin) return;
      cache.evict(message.slice(colon + 1));
    },
    onSubscribed() {
      if (lost) {
        cache.clear();
        logger.info({ channel }, 'response cache eviction subscribed again: memory tier emptied');
      }
      lost = false;
    },
    onUnsubscribed() {
      lost = true;
      logger.warn(
        { channel },
        'response cache eviction unsubscribed (Redis connection lost): entries refreshed on other instances are missed until it subscribes again, when the memory tier is emptied',
      );
    },
  });
}
