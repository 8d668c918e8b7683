import Bottleneck from 'bottleneck';
import type { Logger } from '../options/logger';
import { createRedisClient, pingRedis, type RedisClient, type RedisEndpoint } from '../redis/redis-client';
import type { LimiterMode } from './resilience-events';

/** The gateway's link to the Redis that shares limits between instances. */
export interface LimiterLink {
  readonly mode: LimiterMode;
  /** Counts the times shared limiting came up; a limiter rebuilds its shared state when it changes. */
  readonly epoch: number;
  /** The bottleneck connection while shared limiting is up; undefined while degraded to local limits. */
  sharedConnection(): Bottleneck.IORedisConnection | undefined;
  /** The Redis key of a target's limiter. */
  keyFor(target: string): string;
  /** A shared-limiter call failed: switch to local limits until Redis answers again. */
  reportFailure(error: unknown): void;
  /** Resolves once shared limiting is up (or immediately if it is). */
  whenShared(): Promise<void>;
  /**
   * Calls `listener` once when limits fall back to local (at once if they are local) and
   * returns the unsubscribe. Each waiting acquire subscribes: it must unsubscribe when it is
   * done, since a shared period can last for millions of calls.
   */
  onLocal(listener: () => void): () => void;
  /** How many `onLocal` listeners wait; stays at the number of calls in flight. */
  readonly localListenerCount: number;
  close(): Promise<void>;
}

/** Settings of the link, defaults applied. */
export interface LimiterLinkSettings {
  endpoint: RedisEndpoint;
  keyPrefix: string;
  commandTimeoutMs: number;
}

/** How often a degraded link checks whether Redis answers again, in milliseconds. */
const RECHECK_MS = 1_000;

/**
 * Connects to Redis (ioredis 5, imported only here, only when configured). Until the
 * connection is ready, and whenever it drops or a command fails or times out, limits are
 * local; when Redis answers again, shared limiting resumes by itself. Commands are never
 * queued while disconnected, so an outage is noticed at once instead of stalling requests.
 */
export function createLimiterLink(
  settings: LimiterLinkSettings,
  logger: Logger,
  onMode: (mode: LimiterMode, reason: string) => void,
): LimiterLink {
  let mode: LimiterMode = 'local';
  let epoch = 0;
  let client: RedisClient | undefined;
  let connection: Bottleneck.IORedisConnection | undefined;
  let closed = false;
  let recheck: NodeJS.Timeout | undefined;
  const waiters: Array<() => void> = [];
  const lostListeners = new Set<() => void>();
  const cluster = settings.endpoint.cluster !== undefined;

  const setMode = (next: LimiterMode, reason: string): void => {
    if (mode === next || closed) return;
    mode = next;
    if (next === 'shared') epoch += 1;
    logger[next === 'shared' ? 'info' : 'warn'](
      { mode: next, reason },
      next === 'shared'
        ? 'upstream limits are shared through Redis'
        : 'upstream limits degraded to local limits',
    );
    onMode(next, reason);
    if (next === 'shared') for (const resolve of waiters.splice(0)) resolve();
    else notifyLost();
  };

  const notifyLost = (): void => {
    const listeners = [...lostListeners];
    lostListeners.clear();
    for (const listener of listeners) listener();
  };

  const promote = async (reason: string): Promise<void> => {
    if (client === undefined || connection === undefined || client.status !== 'ready') return;
    try {
      await pingRedis(client);
      setMode('shared', reason);
    } catch (error) {
      // asked again until it answers: a 'ready' connection whose ping failed (a command timeout
      // on a loaded machine, a cluster master not connected yet) never says 'ready' again, and
      // limits stayed local for the connection's life
      logger.warn({ err: error }, 'Redis did not answer; limits stay local for now');
      scheduleRecheck();
    }
  };

  const scheduleRecheck = (): void => {
    if (recheck !== undefined || closed) return;
    recheck = setTimeout(() => {
      recheck = undefined;
      if (mode === 'local') {
        void promote('redis answers again').then(() => {
          if (mode === 'local') scheduleRecheck();
        });
      }
    }, RECHECK_MS);
    recheck.unref();
  };

  void (async () => {
    const ioredis = await import('ioredis');
    const redis = await createRedisClient(settings.endpoint, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeoutMs: settings.commandTimeoutMs,
      connectTimeoutMs: 1_000,
      // reconnect quickly, so shared limiting resumes within about a second of Redis coming back
      retryStrategy: (times: number) => Math.min(times * 100, RECHECK_MS),
    });
    if (closed) {
      redis.disconnect();
      return;
    }
    client = redis;
    redis.on('error', (error: unknown) => logger.debug({ err: error }, 'Redis connection error'));
    redis.on('close', () => setMode('local', 'redis connection closed'));
    redis.on('ready', () => {
      if (connection === undefined) {
        // bottleneck subscribes on client.duplicate(), a second Redis or Cluster like the first
        connection = new Bottleneck.IORedisConnection({ client: redis, Redis: ioredis.Redis });
        connection.on('error', (error: unknown) => logger.debug({ err: error }, 'shared limiter error'));
      }
      void promote('redis connection ready');
    });
  })().catch((error: unknown) =>
    logger.error({ err: error }, 'could not load ioredis; upstream limits stay local'),
  );

  return {
    get mode() {
      return mode;
    },
    get epoch() {
      return epoch;
    },
    sharedConnection() {
      return mode === 'shared' ? connection : undefined;
    },
    keyFor(target) {
      // bottleneck's keys are b_<id>_<name> and its scripts touch several at once: on a cluster the
      // hash tag keeps a target's keys on one slot (a single server keeps the untagged names)
      return cluster ? `${settings.keyPrefix}{${target}}` : `${settings.keyPrefix}${target}`;
    },
    reportFailure(error) {
      logger.warn({ err: error }, 'a shared limiter call failed');
      setMode('local', 'a shared limiter call failed');
      scheduleRecheck();
    },
    whenShared() {
      if (mode === 'shared') return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    onLocal(listener) {
      if (mode === 'local' || closed) {
        listener();
        return () => undefined;
      }
      // a Set, not promises: a settled-never promise keeps every reaction attached to it
      lostListeners.add(listener);
      return () => lostListeners.delete(listener);
    },
    get localListenerCount() {
      return lostListeners.size;
    },
    async close() {
      closed = true;
      if (recheck !== undefined) clearTimeout(recheck);
      notifyLost();
      if (connection !== undefined) await connection.disconnect(false).catch(() => undefined);
      client?.disconnect();
    },
  };
}
