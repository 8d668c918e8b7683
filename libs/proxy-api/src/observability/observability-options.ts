import type {
  MetricsOptions,
  RequestLog,
  RequestLogOptions,
  SwitchyardMetrics,
  SwitchyardTracing,
  TracingOptions,
} from '@switchyard/proxy-logging';

/** Defaults of {@link ObservabilityOptions}. */
export const OBSERVABILITY_DEFAULTS = {
  unauthenticatedRefusalRowsPerSecond: 10,
} as const;

/** Logs, metrics, request log and tracing context of the Switchyard routes. */
export interface ObservabilityOptions {
  /**
   * The request log: a running one (`createRequestLog()`, closed by its creator) or options to
   * create one (then closed with the app). Unset: no request log and no query API.
   * @default undefined
   */
  requestLog?: RequestLog | RequestLogOptions;
  /**
   * Request log rows a second, per app (each cluster worker has its own), for requests refused
   * with 401 for a missing or invalid client key and for requests shed with 503 `overloaded` at
   * `maxConcurrentRequests` (before their key is checked) or because the key store could not be
   * asked about their key, all together: anyone can send those at line rate without a key,
   * and each would cost a row. Bursts of up to the same number pass;
   * past the rate a refusal gets no row, no `request completed` line and no span, and is still
   * counted in the metrics (`switchyard_requests_total`, `switchyard_request_errors_total`) and
   * in `switchyard_refusals_unlogged_total{reason="missing_key"|"invalid_key"|"overloaded"}`.
   * `0` writes no row for them; any number of at least 0 is accepted (fractions too: `0.5` is
   * one row every two seconds). Refusals of identified keys (403, 429, ...) always get their row.
   * @default 10
   */
  unauthenticatedRefusalRowsPerSecond?: number;
  /**
   * Prometheus metrics on `GET /metrics`: `true`, options, or an instance from
   * `createMetrics()`; `false` turns them off. @default true
   */
  metrics?: boolean | MetricsOptions | SwitchyardMetrics;
  /**
   * A bearer token `GET /metrics` requires (`Authorization: Bearer <token>`, compared in
   * constant time; at least 16 characters): a scrape without it is refused with 401. Unset,
   * `/metrics` is open, as Prometheus endpoints usually are: keep it off the public network then.
   * A token for the scraper alone, not the master key, which would let whoever holds the
   * scrape config run the admin API.
   * @default undefined
   */
  metricsToken?: string;
  /**
   * OpenTelemetry spans through `@opentelemetry/api` (a request span, a span per upstream
   * attempt, W3C trace context continued and propagated upstream): `true` uses the global
   * tracer, which records nothing until the application registers an OpenTelemetry SDK;
   * options (`{ tracer }`) or an instance from `createTracing()`; `false` turns them off and
   * forwards the client's `traceparent` unchanged. @default true
   */
  tracing?: boolean | TracingOptions | SwitchyardTracing;
}
