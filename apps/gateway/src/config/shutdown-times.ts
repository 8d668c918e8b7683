import { PRODUCTION_DEFAULTS, REDIS_DEFAULTS } from '@switchyard/proxy-api';
import { MAX_TIMER_MS } from '@switchyard/proxy-core';
import {
  POSTGRES_DATABASE_DEFAULTS,
  REQUEST_LOG_QUEUE_DEFAULTS,
  SQLITE_DATABASE_DEFAULTS,
} from '@switchyard/proxy-logging';
import type { ConfigFile } from './config-schema';

/** Defaults of the `server` fields a shutdown is timed by. */
export const SHUTDOWN_DEFAULTS = {
  shutdownDelayMs: 0,
  shutdownTimeoutMs: 10_000,
} as const;

/** After the drain deadline, how long connections still open get before they are closed outright. */
export const CLOSE_LEFT_CONNECTIONS_MS = 1_000;

/** What each part of a gateway's graceful shutdown may take, from its config (defaults filled in). */
export interface ShutdownTimes {
  /** `server.shutdownDelayMs`: serving on with `/ready` at 503, skipped by a second signal. */
  delayMs: number;
  /** `server.shutdownTimeoutMs`: in-flight requests finishing, counted from the end of the delay. */
  drainTimeoutMs: number;
  /**
   * The key limits' close: the spend settled and owed to Redis sent, and the keys' spend written
   * to the key store (see {@link keySpendFlushMs}); 0 without Redis or a store that keeps spend.
   */
  keySpendFlushMs: number;
  /** `requestLog.flushTimeoutMs`: the request log's last flush and close; 0 with `requestLog.store: none`. */
  requestLogFlushMs: number;
}

type PostgresPool = NonNullable<NonNullable<ConfigFile['requestLog']>['postgres']>;

/** One write to a PostgreSQL database that stopped answering: a connection, then one query timing out (which ends the transaction). */
function postgresWriteMs(pool: PostgresPool | undefined): number {
  const statementMs = pool?.statementTimeoutMs ?? POSTGRES_DATABASE_DEFAULTS.statementTimeoutMs;
  const queryMs =
    pool?.queryTimeoutMs ??
    Math.min(statementMs + POSTGRES_DATABASE_DEFAULTS.queryTimeoutMarginMs, MAX_TIMER_MS);
  return (pool?.connectTimeoutMs ?? POSTGRES_DATABASE_DEFAULTS.connectTimeoutMs) + queryMs;
}

/**
 * The longest write of key spend to the key store, as the app opens it from the config:
 * `admin.keyStore`, else with a master key the request log's database (memory without one),
 * else, for static keys with a budget, the request log's database when it has one; undefined
 * when nothing keeps spend.
 */
function spendWriteMs(config: ConfigFile): number | undefined {
  const keyStore = config.admin?.keyStore;
  if (keyStore !== undefined)
    return keyStore.url.startsWith('sqlite:')
      ? SQLITE_DATABASE_DEFAULTS.busyTimeoutMs
      : postgresWriteMs(keyStore.postgres);
  const masterKey = config.admin?.masterKey !== undefined;
  if (!masterKey && !(config.keys ?? []).some((key) => key.budget !== undefined)) return undefined;
  const log = config.requestLog;
  switch (log?.store ?? 'sqlite') {
    case 'sqlite':
      return SQLITE_DATABASE_DEFAULTS.busyTimeoutMs;
    case 'postgres':
      return postgresWriteMs(log?.postgres);
    case 'jsonl':
    case 'none':
      return masterKey ? 0 : undefined;
  }
}

/**
 * What the key limits' close may take when Redis and the key store stop answering (proxy-api's
 * `KeyLimiter.close()`): the settlements still running and the spend owed to Redis (a replay
 * under way, then one more), a Redis command timeout each; then the write of the keys' spend to
 * the key store, after the periodic one still running (unless `limits.spendFlushIntervalMs` is
 * 0), each reading the live spend from Redis (the keys together: one command timeout) and writing
 * it in one transaction, the two bounded by `limits.spendFlushTimeoutMs` (past it the worker
 * gives up on the spend not written, and does not wait for the key store's pool to close).
 */
function keySpendFlushMs(config: ConfigFile): number {
  const redisMs =
    config.redis === undefined ? 0 : (config.redis.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs);
  const settleAndOwedMs = 3 * redisMs;
  const writeMs = spendWriteMs(config);
  if (writeMs === undefined) return settleAndOwedMs;
  const intervalMs = config.limits?.spendFlushIntervalMs ?? PRODUCTION_DEFAULTS.spendFlushIntervalMs;
  const writes = intervalMs > 0 ? 2 : 1;
  const timeoutMs = config.limits?.spendFlushTimeoutMs ?? PRODUCTION_DEFAULTS.spendFlushTimeoutMs;
  return settleAndOwedMs + Math.min(writes * (redisMs + writeMs), timeoutMs);
}

/**
 * The shutdown times of a config, as the gateway runs with it: after the delay and the drain,
 * {@link CLOSE_LEFT_CONNECTIONS_MS} to close the connections left, then the key spend's flush and
 * the request log's last flush. Pass the config with its environment overrides applied, as
 * `start` runs it (the master key and Redis may come from the environment).
 */
export function shutdownTimes(config: ConfigFile): ShutdownTimes {
  const log = config.requestLog;
  return {
    delayMs: config.server?.shutdownDelayMs ?? SHUTDOWN_DEFAULTS.shutdownDelayMs,
    drainTimeoutMs: config.server?.shutdownTimeoutMs ?? SHUTDOWN_DEFAULTS.shutdownTimeoutMs,
    keySpendFlushMs: keySpendFlushMs(config),
    requestLogFlushMs:
      log?.store === 'none' ? 0 : (log?.flushTimeoutMs ?? REQUEST_LOG_QUEUE_DEFAULTS.flushTimeoutMs),
  };
}

/**
 * The longest a gateway's graceful shutdown takes, every part of it one after another: the delay,
 * the drain, closing the connections left, the key spend's flush and the request log's last flush.
 * A process manager's grace period (Kubernetes' `terminationGracePeriodSeconds`) must exceed it.
 */
export function workerShutdownMs(times: ShutdownTimes): number {
  return (
    times.delayMs +
    times.drainTimeoutMs +
    CLOSE_LEFT_CONNECTIONS_MS +
    times.keySpendFlushMs +
    times.requestLogFlushMs
  );
}
