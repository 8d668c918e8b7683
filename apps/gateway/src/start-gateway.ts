import type { AddressInfo } from 'node:net';
import { IDLE_MEMORY_DEFAULTS, createApp, releaseMemoryWhenIdle } from '@switchyard/proxy-api';
import { MAX_TIMER_MS } from '@switchyard/proxy-core';
import { createLogger, reopenLogFile, type SwitchyardMetrics } from '@switchyard/proxy-logging';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { appOptionsFromConfig } from './config/app-options-from-config';
import type { ConfigFile } from './config/config-schema';
import { envValue } from './config/env-value';
import { resolveLogLevel } from './config/log-level';
import { checkOpenExposure, guardHosts } from './config/open-mode';
import { CLOSE_LEFT_CONNECTIONS_MS, shutdownTimes } from './config/shutdown-times';
import { startTelemetry } from './telemetry/start-telemetry';

export { resilienceOptions } from './config/app-options-from-config';

/** Where and how to start. */
export interface StartOptions {
  config: ConfigFile;
  port: number;
  host: string;
  /** The log level, winning over `logging.level`: `start` passes LOG_LEVEL as `envValue` reads it. */
  logLevel?: string;
  /** The environment (DATABASE_URL for a postgres request log). @default {} */
  env?: NodeJS.ProcessEnv;
  /** Metrics to serve on `/metrics` instead of new ones (cluster workers: the cluster's totals); closed with the app. */
  metrics?: SwitchyardMetrics;
  /** In a cluster worker: every response carries `x-switchyard-worker` with this process's pid. @default false */
  clusterWorker?: boolean;
}

/** A started gateway. */
export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  /**
   * Turns `/ready` to 503, keeps serving for `server.shutdownDelayMs`, then stops accepting,
   * lets in-flight requests finish within the shutdown deadline, and closes. Called again
   * during the delay (a second signal), it skips the rest of the delay; the same promise.
   */
  shutdown(): Promise<void>;
  /**
   * Opens the log file anew at its path (after log rotation moved it away); false when the
   * logs go to stdout, stderr or nowhere, where there is nothing to reopen.
   */
  reopenLogFile(): boolean;
}

/** Whether the config's logs go to a file (which log rotation moves away), not a standard stream. */
export function logsToFile(config: ConfigFile): boolean {
  const destination = config.logging?.destination ?? 'stdout';
  return destination !== 'stdout' && destination !== 'stderr';
}

/**
 * The gateway's logger from the `logging` section: level (LOG_LEVEL wins), destination, key
 * redaction (plus `logging.redactPaths`); pretty lines through pino-pretty on a terminal stdout outside production, JSON
 * when pino-pretty (an optional dependency) is not installed. Undefined at level `silent`.
 */
export function gatewayLogger(
  config: ConfigFile,
  logLevel: string | undefined,
  env: NodeJS.ProcessEnv,
): FastifyBaseLogger | undefined {
  const level = resolveLogLevel(config, logLevel);
  if (level === 'silent') return undefined;
  const destination = config.logging?.destination ?? 'stdout';
  const redactPaths = config.logging?.redactPaths ?? [];
  const pretty =
    destination === 'stdout' && process.stdout.isTTY && envValue(env, 'NODE_ENV') !== 'production';
  if (pretty) {
    try {
      return createLogger({ level, destination, pretty: true, redactPaths });
    } catch {
      // pino-pretty is optional: without it the lines stay JSON
    }
  }
  return createLogger({ level, destination, redactPaths });
}

/** Builds the app from a validated config and listens. */
export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const { config } = options;
  const env = options.env ?? {};
  checkOpenExposure(config, options.host);
  const logger = gatewayLogger(config, options.logLevel, env);
  const { metrics } = options;
  const appOptions = appOptionsFromConfig(config, env);
  // the OpenTelemetry SDK, only when an OTLP endpoint is configured: the libraries' spans then record
  const telemetry = await startTelemetry(env);
  let app: FastifyInstance;
  try {
    app = createApp({
      ...appOptions,
      ...(metrics !== undefined && appOptions.metrics !== false ? { metrics } : {}),
      ...(logger === undefined ? { logger: false } : { loggerInstance: logger }),
    });
  } catch (error) {
    await telemetry?.shutdown();
    throw error;
  }
  guardHosts(app, config);
  if (metrics !== undefined) app.addHook('onClose', async () => metrics.close());
  // after the drain: every request's spans have ended; export what is buffered
  if (telemetry !== undefined) app.addHook('onClose', async () => telemetry.shutdown());
  if (options.clusterWorker === true) {
    const worker = String(process.pid);
    app.addHook('onSend', async (_request, reply) => {
      void reply.header('x-switchyard-worker', worker);
    });
  }
  let stopIdleRelease: (() => void) | undefined;
  app.addHook('onClose', async () => stopIdleRelease?.());
  try {
    await app.listen({ port: options.port, host: options.host });
  } catch (error) {
    // the app has opened its connections (Redis, the request log's database) and telemetry:
    // left open, they keep the process running after start reports the error (EADDRINUSE)
    await app.close().catch(() => undefined);
    throw error;
  }
  // the gateway owns its process: after start-up (and after each busy spell) an idle event loop
  // gives back the memory V8 grew, ~20-30 MB of RSS (docs/operations.md, "Memory")
  const idleMemoryReleaseMs = config.server?.idleMemoryReleaseMs ?? IDLE_MEMORY_DEFAULTS.idleMs;
  if (idleMemoryReleaseMs > 0) stopIdleRelease = releaseMemoryWhenIdle({ idleMs: idleMemoryReleaseMs });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  // a cluster primary waits for these to pass before it kills a worker (cluster/run-primary.ts)
  const { delayMs: shutdownDelayMs, drainTimeoutMs: shutdownTimeoutMs } = shutdownTimes(config);
  let closing: Promise<void> | undefined;
  let skipDelay: (() => void) | undefined;
  return {
    app,
    url,
    reopenLogFile() {
      if (logger === undefined || !logsToFile(config)) return false;
      return reopenLogFile(logger as Parameters<typeof reopenLogFile>[0]);
    },
    shutdown() {
      skipDelay?.();
      closing ??= (async () => {
        // /ready answers 503 from now; the drain deadline counts from app.close() below
        app.switchyardDrain.begin();
        if (shutdownDelayMs > 0) {
          // a load balancer (a Kubernetes Service) keeps sending until it has seen /ready fail
          // or the endpoint removal has propagated: serve what it sends until then
          app.log.info(
            { shutdownDelayMs },
            'shutdown delay: /ready answers 503, still serving until the listener closes',
          );
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, shutdownDelayMs);
            skipDelay = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          skipDelay = undefined;
        }
        // connections still open a moment after the drain deadline are closed outright (a
        // deadline near the longest timer is kept to it: past it the timer would fire at once)
        const deadline = setTimeout(
          () => {
            app.log.warn(
              { shutdownTimeoutMs },
              'shutdown deadline passed; closing the remaining connections',
            );
            app.server.closeAllConnections();
          },
          Math.min(shutdownTimeoutMs + CLOSE_LEFT_CONNECTIONS_MS, MAX_TIMER_MS),
        );
        deadline.unref();
        try {
          await app.close();
        } finally {
          clearTimeout(deadline);
        }
      })();
      return closing;
    },
  };
}
