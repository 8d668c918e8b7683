import type { MetricsOptions, RequestLog, RequestLogOptions, SwitchyardMetrics } from '@switchyard/proxy-logging';

/** Logs, metrics, request log and tracing context of the Switchyard routes. */
export interface ObservabilityOptions {
  /**
   * The request log: a running one (`createRequestLog()`, closed by its creator) or options to
   * create one (then closed with the app). Unset: no request log and no query API.
   * @default undefined
   */
  requestLog?: RequestLog | RequestLogOptions;
  /**
   * Prometheus metrics on `GET /metrics`: `true`, options, or an instance from
   * `createMetrics()`; `false` turns them off. @default true
   */
  metrics?: boolean | MetricsOptions | SwitchyardMetrics;
}
