import { MAX_TIMER_MS, schemaProblems, withReason } from '@switchyard/proxy-core';
import { Type, type IntegerOptions, type TInteger } from '@sinclair/typebox';
import { APP_DEFAULTS, type AppOptions } from '../app-options';

/**
 * The longest keep-alive timeout of Node's HTTP server, in milliseconds (2^31 - 1 - 1000). Node
 * arms an idle connection's socket timer with the keep-alive timeout plus 1 s, and a socket timer
 * longer than `MAX_TIMER_MS` is cut to it with a `TimeoutOverflowWarning` on every response.
 */
export const MAX_KEEP_ALIVE_TIMEOUT_MS = MAX_TIMER_MS - 1_000;

function serverTimeoutReason(value: unknown): string | undefined {
  if (typeof value !== 'number' || value <= MAX_TIMER_MS) return undefined;
  return `${value} ms is above ${MAX_TIMER_MS} ms (about 24.8 days): Node's HTTP server checks its request and headers timeouts as 32-bit numbers, so a longer one can wrap around and time requests out early`;
}

function keepAliveTimeoutReason(value: unknown): string | undefined {
  if (typeof value !== 'number' || value <= MAX_KEEP_ALIVE_TIMEOUT_MS) return undefined;
  return `${value} ms is above ${MAX_KEEP_ALIVE_TIMEOUT_MS} ms: Node's HTTP server arms an idle connection's timer with the keep-alive timeout plus 1 s, which must stay within ${MAX_TIMER_MS} ms (about 24.8 days), or every response logs a TimeoutOverflowWarning`;
}

/**
 * The schema of Node's HTTP server request or headers timeout (`requestTimeoutMs`,
 * `headersTimeoutMs`): whole milliseconds, at most `MAX_TIMER_MS`, whose refusal above it says why.
 * @example
 * Type.Object({ requestTimeoutMs: Type.Optional(serverTimeoutSchema({ minimum: 1 })) })
 */
export function serverTimeoutSchema(options: Omit<IntegerOptions, 'maximum'> = {}): TInteger {
  return withReason(Type.Integer({ ...options, maximum: MAX_TIMER_MS }), serverTimeoutReason);
}

/**
 * The schema of Node's HTTP server keep-alive timeout (`keepAliveTimeoutMs`): whole milliseconds,
 * at most {@link MAX_KEEP_ALIVE_TIMEOUT_MS}, whose refusal above it says why.
 * @example
 * Type.Object({ keepAliveTimeoutMs: Type.Optional(keepAliveTimeoutSchema({ minimum: 1 })) })
 */
export function keepAliveTimeoutSchema(options: Omit<IntegerOptions, 'maximum'> = {}): TInteger {
  return withReason(Type.Integer({ ...options, maximum: MAX_KEEP_ALIVE_TIMEOUT_MS }), keepAliveTimeoutReason);
}

/**
 * The HTTP server's options among `createApp`'s: its timeouts (0 turns one off, as in Node), the
 * largest request head, whether to trust `X-Forwarded-*`. Checked with the rest of the options,
 * so a bad one is named as the app's option, not refused by Fastify or Node under theirs.
 */
export const AppServerOptionsSchema = Type.Object({
  requestTimeoutMs: Type.Optional(serverTimeoutSchema({ minimum: 0 })),
  headersTimeoutMs: Type.Optional(serverTimeoutSchema({ minimum: 0 })),
  keepAliveTimeoutMs: Type.Optional(keepAliveTimeoutSchema({ minimum: 0 })),
  maxHeaderBytes: Type.Optional(Type.Integer({ minimum: 1 })),
  trustProxy: Type.Optional(Type.Boolean()),
});

/** {@link AppServerOptionsSchema}'s problems with `options`, each starting with its option's path. */
export function appServerOptionsProblems(
  options: Pick<
    AppOptions,
    'requestTimeoutMs' | 'headersTimeoutMs' | 'keepAliveTimeoutMs' | 'maxHeaderBytes' | 'trustProxy'
  >,
): string[] {
  const { requestTimeoutMs, headersTimeoutMs, keepAliveTimeoutMs, maxHeaderBytes, trustProxy } = options;
  return schemaProblems(AppServerOptionsSchema, {
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs,
    maxHeaderBytes,
    trustProxy,
  });
}

/** The longest wait between two checks of Node's request and headers timeouts (see {@link timeoutCheckIntervalMs}). */
export const MAX_TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * How often Node's HTTP server checks its request and headers timeouts
 * (`connectionsCheckingInterval`): Node only notices an expired timeout when it checks, every
 * 30 s by default, so a slow client held a connection for up to 30 s past either timeout (a
 * headers timeout of 10 s cut a slowloris after up to 40 s). Half the shorter timeout, at most
 * {@link MAX_TIMEOUT_CHECK_INTERVAL_MS}; Node's default when both are off (0).
 */
export function timeoutCheckIntervalMs(
  requestTimeoutMs: number,
  headersTimeoutMs: number,
): number | undefined {
  const timeouts = [requestTimeoutMs, headersTimeoutMs].filter((ms) => ms > 0);
  if (timeouts.length === 0) return undefined;
  return Math.max(1, Math.min(MAX_TIMEOUT_CHECK_INTERVAL_MS, Math.floor(Math.min(...timeouts) / 2)));
}

/** Node HTTP server options (`http.createServer(options, listener)`) that carry the app's slow-client limits. */
export interface SwitchyardServerOptions {
  requestTimeout: number;
  headersTimeout: number;
  keepAliveTimeout: number;
  maxHeaderSize: number;
  connectionsCheckingInterval?: number;
}

/**
 * The HTTP server limits of the app's options, defaults filled in: the request, headers and
 * keep-alive timeouts, the largest request head, and how often Node checks the timeouts. The
 * headers timeout stays below the request timeout, where Node enforces it (a request timeout of
 * 0 is none: the headers timeout is kept).
 */
export function serverOptionsOf(
  options: Pick<
    AppOptions,
    'requestTimeoutMs' | 'headersTimeoutMs' | 'keepAliveTimeoutMs' | 'maxHeaderBytes'
  >,
): SwitchyardServerOptions {
  const requestTimeout = options.requestTimeoutMs ?? APP_DEFAULTS.requestTimeoutMs;
  // Node's headers timeout must stay below the request timeout to mean anything; a request
  // timeout of 0 is none, and leaves the headers timeout (the slowloris bound) as it is
  const headersTimeoutMs = options.headersTimeoutMs ?? APP_DEFAULTS.headersTimeoutMs;
  const headersTimeout = requestTimeout > 0 ? Math.min(headersTimeoutMs, requestTimeout) : headersTimeoutMs;
  const checkInterval = timeoutCheckIntervalMs(requestTimeout, headersTimeout);
  return {
    requestTimeout,
    headersTimeout,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? APP_DEFAULTS.keepAliveTimeoutMs,
    maxHeaderSize: options.maxHeaderBytes ?? APP_DEFAULTS.maxHeaderBytes,
    // the timeouts are enforced when Node checks them: every 30 s unless told
    ...(checkInterval === undefined ? {} : { connectionsCheckingInterval: checkInterval }),
  };
}
