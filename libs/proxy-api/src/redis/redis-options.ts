import { Type } from '@sinclair/typebox';
import {
  RedisClusterOptionsSchema,
  RedisUrlSchema,
  timerDelaySchema,
  type RedisClient,
  type RedisClusterOptions,
} from '@switchyard/proxy-core';

/** Defaults of {@link RedisOptions}. */
export const REDIS_DEFAULTS = {
  /** Prefix of every key and channel the app writes. */
  keyPrefix: 'switchyard:',
  /** The longest any request waits on one Redis command before failing open or closed. */
  commandTimeoutMs: 500,
} as const;

/** Redis shared by several gateway instances (limits, budgets, key-cache invalidation). */
export interface RedisOptions {
  /**
   * A `redis://` or `rediss://` URL, or another address ioredis reads (`host:port`, a Unix socket
   * path); the app connects (ioredis, loaded only then) and disconnects on close.
   */
  url?: string;
  /**
   * A Redis Cluster instead of `url`: its startup nodes (`{ nodes: ["redis://host:port", ...] }`);
   * the app connects an ioredis `Cluster` and disconnects it on close.
   */
  cluster?: RedisClusterOptions;
  /** An ioredis `Redis` or `Cluster` you own, instead of `url` or `cluster` (the app never quits it). */
  client?: RedisClient;
  /** Prefix of every key and channel. @default "switchyard:" */
  keyPrefix?: string;
  /** Longest wait on one command in milliseconds, at most `MAX_TIMER_MS` of `@switchyard/proxy-core`. @default 500 */
  commandTimeoutMs?: number;
}

/**
 * {@link RedisOptions} as a schema, every field but `client` (an instance): what `createApp`
 * checks its `redis` against, and a config file's `redis` section (the gateway's), so a field is
 * accepted by both or by neither. Unknown fields are refused; that exactly one of `url`, `cluster`
 * and `client` is set is checked besides.
 */
export const RedisOptionsSchema = Type.Object(
  {
    url: Type.Optional(RedisUrlSchema),
    cluster: Type.Optional(RedisClusterOptionsSchema),
    keyPrefix: Type.Optional(Type.String({ minLength: 1 })),
    commandTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
  },
  { additionalProperties: false },
);
