import type { ContextPluginsOptions } from '@switchyard/proxy-context';
import type { Gateway, GatewayOptions } from '@switchyard/proxy-core';
import type { PricingOptions } from '@switchyard/proxy-logging';
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { ObservabilityOptions } from './observability/observability-options';
import type { ProductionOptions } from './production/production-options';
import type { ProxyOptions } from './proxy/proxy-options';
import type { UiOptions } from './ui/ui-options';

/** Defaults of {@link AppOptions}, in one place. */
export const APP_DEFAULTS = {
  /** Largest accepted request body (images arrive base64-encoded). */
  bodyLimitBytes: 10 * 1024 * 1024,
  /** Time to receive a whole request, against slow clients. */
  requestTimeoutMs: 30_000,
  /** Idle keep-alive of client connections. */
  keepAliveTimeoutMs: 72_000,
  /** Time to receive the request headers, against slowloris clients. */
  headersTimeoutMs: 10_000,
  /** Largest accepted request head (request line + headers); larger heads get 431. */
  maxHeaderBytes: 16 * 1024,
} as const;

/** Options of the Switchyard routes, whether mounted by `createApp` or as a plugin. */
export interface SwitchyardRoutesOptions extends ProductionOptions, ObservabilityOptions {
  /** A gateway built with `createGateway`, or the options to build one (then owned and closed by the app). */
  gateway: Gateway | GatewayOptions;
  /** Largest accepted request body in bytes; larger bodies get 413. @default 10485760 */
  bodyLimitBytes?: number;
  /**
   * Response cache, context condenser, model catalog and memory budget (`@switchyard/proxy-context`).
   * The catalog becomes the engine's `modelCatalog` (what caps budget reservations and
   * `tokensPerMinute` weights, and describes `/v1/models`) when the app builds the gateway from
   * options that give none; a gateway passed in built keeps the one it was created with (the
   * app warns at start when it has none: pass the same catalog to `createGateway({ modelCatalog })`
   * and here as `catalog`). @default off
   */
  context?: ContextPluginsOptions;
  /** Prices (catalog overrides, unit prices) for the pricing plugin and the proxy, or `false` for none. @default {} (the bundled catalog) */
  pricing?: PricingOptions | false;
  /** The universal proxy (`/proxy/*`): routes, allow-list, provider keys; `false` disables it. @default {} */
  proxy?: ProxyOptions | false;
  /**
   * The admin web UI at `/ui/` (overview charts, request log, runs, providers, keys), behind
   * the master key like the rest of `/admin`. `true` or options turn it on (missing assets are
   * then an error), `false` off. @default on when `admin.masterKey` is set and the assets are built
   */
  ui?: boolean | UiOptions;
}

/** Options of {@link createApp}. */
export interface AppOptions extends SwitchyardRoutesOptions {
  /**
   * Fastify/pino logger settings, or `false` for none. Settings without `redact` get
   * `redactLogger()` (client and provider keys). Settings without `stream` or `transport`
   * write to `file` (or stdout) synchronously, as `createLogger()` does, not through pino's
   * default asynchronous writes on the thread pool. Exclusive with `loggerInstance`. @default false
   */
  logger?: FastifyServerOptions['logger'];
  /**
   * A pino logger of your own (e.g. `createLogger()` from `@switchyard/proxy-logging`, or your
   * service's logger) used as the app's logger; its redaction is yours. Exclusive with `logger`.
   */
  loggerInstance?: FastifyBaseLogger;
  /**
   * Time to receive a whole request in milliseconds (slow-client guard), at most `MAX_TIMER_MS`;
   * 0: none (the headers timeout still applies; otherwise it is kept within this one). Node checks both
   * timeouts twice per the shorter one, at most every second (its own default is 30 s). @default 30000
   */
  requestTimeoutMs?: number;
  /** Idle keep-alive of client connections in milliseconds, at most `MAX_KEEP_ALIVE_TIMEOUT_MS`; 0: none. @default 72000 */
  keepAliveTimeoutMs?: number;
  /** Time to receive the request headers in milliseconds (slowloris guard), at most `MAX_TIMER_MS`; 0: none. @default 10000 */
  headersTimeoutMs?: number;
  /** Largest accepted request head in bytes; larger heads get 431 from Node. @default 16384 */
  maxHeaderBytes?: number;
  /** Trust `X-Forwarded-*` from a proxy in front. @default false */
  trustProxy?: boolean;
}
