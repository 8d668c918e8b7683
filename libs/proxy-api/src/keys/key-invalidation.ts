import type { Logger } from '@switchyard/proxy-core';
import type { RedisConnection } from '../redis/redis-connection';
import type { KeyRegistry } from './key-registry';

/**
 * Wires a key registry to Redis pub/sub: every change is published, and every instance
 * drops the published hash from its cache on receipt (well within the 5 s promise).
 */
export async function connectKeyInvalidation(
  registry: KeyRegistry,
  redis: RedisConnection,
  logger: Logger,
  onInvalidate?: (hash: string) => void,
): Promise<void> {
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
  await redis.subscribe(channel, (hash) => {
    registry.forget(hash);
    // ids only: the hash identifies a key to whoever holds the store, so it stays out of logs
    logger.debug({ channel }, 'key invalidation received');
    onInvalidate?.(hash);
  });
}
