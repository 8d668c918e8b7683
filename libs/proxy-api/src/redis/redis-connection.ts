import { SwitchyardError, type Logger } from '@switchyard/proxy-core';
import type { Redis } from 'ioredis';
import { REDIS_DEFAULTS, type RedisOptions } from './redis-options';

/** The app's Redis: a command client, a subscriber, and the bounded wait on both. */
export interface RedisConnection {
  readonly client: Redis;
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  /** Runs a command, rejecting once the command timeout passes. */
  run<T>(command: (client: Redis) => Promise<T>): Promise<T>;
  /** Subscribes to a channel (on a second connection); calls `onMessage` for each message. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  /** Resolves when Redis answers a PING within the command timeout. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Rejects with a `TimeoutError` if `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`Redis did not answer within ${ms} ms.`), { name: 'TimeoutError' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Connects (or adopts a client); ioredis is imported only here, only when Redis is configured. */
export async function connectRedis(options: RedisOptions, logger: Logger): Promise<RedisConnection> {
  const commandTimeoutMs = options.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs;
  const keyPrefix = options.keyPrefix ?? REDIS_DEFAULTS.keyPrefix;
  let client: Redis;
  const owned = options.client === undefined;
  if (options.client !== undefined) {
    client = options.client;
  } else if (options.url !== undefined) {
    let Constructor: typeof Redis;
    try {
      ({ Redis: Constructor } = await import('ioredis'));
    } catch (error) {
      throw new SwitchyardError('invalid_options', 'Redis is configured but the optional dependency "ioredis" is not installed (npm install ioredis).', { cause: error });
    }
    client = new Constructor(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: commandTimeoutMs,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 250, 2_000),
    });
    client.on('error', (error: Error) => logger.warn({ err: { message: error.message } }, 'redis connection error'));
    await client.connect().catch((error: unknown) => logger.warn({ err: { message: (error as Error).message } }, 'redis is not reachable at start; serving on local fallbacks until it is'));
  } else {
    throw new SwitchyardError('invalid_options', 'Redis options need a url or a client.');
  }
  const subscribers: Redis[] = [];
  const run = <T>(command: (c: Redis) => Promise<T>): Promise<T> => withTimeout(command(client), commandTimeoutMs);
  return {
    client,
    keyPrefix,
    commandTimeoutMs,
    run,
    async subscribe(channel, onMessage) {
      const subscriber = client.duplicate({ enableOfflineQueue: true, lazyConnect: false, commandTimeout: undefined });
      subscriber.on('error', (error: Error) => logger.warn({ err: { message: error.message } }, 'redis subscriber error'));
      subscribers.push(subscriber);
      subscriber.on('message', (received: string, message: string) => {
        if (received === channel) onMessage(message);
      });
      await subscriber.subscribe(channel);
    },
    async ping() {
      await run((c) => c.ping());
    },
    async close() {
      for (const subscriber of subscribers) subscriber.disconnect();
      if (owned) client.disconnect();
    },
  };
}
