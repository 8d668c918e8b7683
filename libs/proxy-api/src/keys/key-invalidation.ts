import type { Logger } from '@switchyard/proxy-core';
import type { RedisConnection } from '../redis/redis-connection';
import type { RedisSubscription } from '../redis/redis-subscription';
import type { KeyRegistry } from './key-registry';

/**
 * Wires a key registry to Redis pub/sub: every change is published, and every instance drops
 * the published hash from its caches on receipt. Pub/sub delivers only to connections
 * subscribed when the message is published, so each time the subscription is (re)established
 * (at start, after Redis or the connection was down) the registry expires every cached key:
 * a change published meanwhile was missed, so every key is looked up in the store again at its
 * next use (served stale-if-error if the store fails, as any expired key is).
 * Returns the subscription, which keeps (re)subscribing in the background until the
 * connection closes; `subscribed` tells whether invalidations are being received.
 */
export function connectKeyInvalidation(
  registry: KeyRegistry,
  redis: RedisConnection,
  logger: Logger,
  onInvalidate?: (hash: string) => void,
): RedisSubscription {
  const channel = `${redis.keyPrefix}keys:invalidate`;
  registry.setPublisher({
    async publish(hash) {
      try {
        await redis.run((client) => client.publish(channel, hash));
      } catch (error) {
        // the change is stored; other instances drop the key when their cache entry expires
        logger.warn({ err: { message: (error as Error).message } }, 'could not publish a key invalidation');
      }
    },
  });
  let lost = false;
  return redis.subscribe(channel, {
    onMessage(hash) {
      registry.forget(hash);
      // ids only: the hash identifies a key to whoever holds the store, so it stays out of logs
      logger.debug({ channel }, 'key invalidation received');
      onInvalidate?.(hash);
    },
    onSubscribed() {
      registry.forgetAll();
      logger.info(
        { channel },
        lost ? 'key invalidation subscribed again: cached keys expired' : 'key invalidation subscribed',
      );
      lost = false;
    },
    onUnsubscribed() {
      lost = true;
      logger.warn(
        { channel },
        'key invalidation unsubscribed (Redis connection lost): changes of keys made on other instances are missed until it subscribes again, when cached keys are dropped',
      );
    },
  });
}
