import {
  createRedisClient,
  pingRedis,
  redisEndpointOf,
  withTimeout,
  type Logger,
  type RedisClient,
} from '@switchyard/proxy-core';
import { REDIS_DEFAULTS, type RedisOptions } from './redis-options';
import { subscribeRedis, type RedisSubscription, type RedisSubscriptionHandlers } from './redis-subscription';

/** The app's Redis: a command client, a subscriber, and the bounded wait on both. */
export interface RedisConnection {
  readonly client: RedisClient;
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  /** Runs a command, rejecting once the command timeout passes. */
  run<T>(command: (client: RedisClient) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a channel on a connection of its own, kept subscribed through reconnections
   * (see {@link subscribeRedis}) until {@link close}.
   */
  subscribe(channel: string, handlers: RedisSubscriptionHandlers): RedisSubscription;
  /** Resolves when Redis (every master of a cluster) answers a PING within the command timeout. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Connects (or adopts a client); ioredis is imported only here, only when Redis is configured. */
export async function connectRedis(options: RedisOptions, logger: Logger): Promise<RedisConnection> {
  const commandTimeoutMs = options.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs;
  const keyPrefix = options.keyPrefix ?? REDIS_DEFAULTS.keyPrefix;
  let client: RedisClient;
  const owned = options.client === undefined;
  if (options.client !== undefined) {
    client = options.client;
  } else {
    client = await createRedisClient(redisEndpointOf(options), {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeoutMs,
      connectTimeoutMs: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 250, 2_000),
    });
    client.on('error', (error: Error) =>
      logger.warn({ err: { message: error.message } }, 'redis connection error'),
    );
    await client
      .connect()
      .catch((error: unknown) =>
        logger.warn(
          { err: { message: (error as Error).message } },
          'redis is not reachable at start; serving on local fallbacks until it is',
        ),
      );
  }
  const subscriptions: RedisSubscription[] = [];
  const run = <T>(command: (c: RedisClient) => Promise<T>): Promise<T> =>
    withTimeout(command(client), commandTimeoutMs, 'Redis');
  return {
    client,
    keyPrefix,
    commandTimeoutMs,
    run,
    subscribe(channel, handlers) {
      const subscription = subscribeRedis(client, channel, handlers, logger);
      subscriptions.push(subscription);
      return subscription;
    },
    async ping() {
      await run(pingRedis);
    },
    async close() {
      for (const subscription of subscriptions) subscription.close();
      if (owned) client.disconnect();
    },
  };
}
