import { REQUEST_LOG_QUEUE_DEFAULTS } from '@switchyard/proxy-logging';
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
  /** `requestLog.flushTimeoutMs`: the request log's last flush and close; 0 with `requestLog.store: none`. */
  requestLogFlushMs: number;
}

/**
 * The shutdown times of a config, as the gateway runs with it: after the delay and the drain,
 * {@link CLOSE_LEFT_CONNECTIONS_MS} to close the connections left, then the request log's last
 * flush. Pass the config with its environment overrides applied, as `start` runs it.
 */
export function shutdownTimes(config: ConfigFile): ShutdownTimes {
  const log = config.requestLog;
  return {
    delayMs: config.server?.shutdownDelayMs ?? SHUTDOWN_DEFAULTS.shutdownDelayMs,
    drainTimeoutMs: config.server?.shutdownTimeoutMs ?? SHUTDOWN_DEFAULTS.shutdownTimeoutMs,
    requestLogFlushMs:
      log?.store === 'none' ? 0 : (log?.flushTimeoutMs ?? REQUEST_LOG_QUEUE_DEFAULTS.flushTimeoutMs),
  };
}
