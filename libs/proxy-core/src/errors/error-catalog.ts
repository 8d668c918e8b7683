/** Every error code Switchyard can produce. Match on these, never on messages. */
export type SwitchyardErrorCode =
  | 'invalid_request'
  | 'invalid_options'
  | 'authentication_error'
  | 'permission_denied'
  | 'target_not_allowed'
  | 'model_not_allowed'
  | 'model_not_found'
  | 'not_found'
  | 'request_too_large'
  | 'context_length_exceeded'
  | 'content_filter'
  | 'unsupported_feature'
  | 'rate_limit_exceeded'
  | 'budget_exceeded'
  | 'client_closed_request'
  | 'upstream_bad_request'
  | 'upstream_auth_error'
  | 'upstream_not_found'
  | 'upstream_rate_limited'
  | 'upstream_error'
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'upstream_connection_error'
  | 'upstream_stream_error'
  | 'circuit_open'
  | 'limiter_rejected'
  | 'request_timeout'
  | 'overloaded'
  | 'duplicate_registration'
  | 'internal_error';

/** What an error code means on the wire and to the retry policy. */
export interface ErrorCodeInfo {
  /** HTTP status the error leaves with. */
  readonly status: number;
  /** OpenAI's `error.type` family. */
  readonly type: string;
  /** Whether another attempt (same or other target) may succeed. */
  readonly retryable: boolean;
  /** One line for `docs/errors.md`. */
  readonly description: string;
}

/**
 * The total catalog: a missing code is a compile error, and `docs/errors.md` is kept in
 * sync with it by a test.
 */
export const ERROR_CATALOG = {
  invalid_request: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    description: 'The request body or parameters are invalid.',
  },
  invalid_options: {
    status: 500,
    type: 'server_error',
    retryable: false,
    description: 'Gateway or plugin options failed validation at construction.',
  },
  authentication_error: {
    status: 401,
    type: 'authentication_error',
    retryable: false,
    description: 'No valid client key was presented.',
  },
  permission_denied: {
    status: 403,
    type: 'permission_error',
    retryable: false,
    description: 'The client key may not perform this operation.',
  },
  target_not_allowed: {
    status: 403,
    type: 'permission_error',
    retryable: false,
    description:
      'The proxy target is not allow-listed or resolves to a refused (private, loopback, link-local or metadata) address.',
  },
  model_not_allowed: {
    status: 403,
    type: 'permission_error',
    retryable: false,
    description: 'The client key may not use the requested model.',
  },
  model_not_found: {
    status: 404,
    type: 'invalid_request_error',
    retryable: false,
    description: 'No configured model, alias or provider matches the requested model.',
  },
  not_found: {
    status: 404,
    type: 'invalid_request_error',
    retryable: false,
    description: 'No route matches the path.',
  },
  request_too_large: {
    status: 413,
    type: 'invalid_request_error',
    retryable: false,
    description: 'The request body exceeds the configured size limit.',
  },
  context_length_exceeded: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    description: "The messages do not fit the model's context window.",
  },
  content_filter: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    description: "The provider's content policy refused the request.",
  },
  unsupported_feature: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    description: 'The chosen provider does not support a requested feature.',
  },
  rate_limit_exceeded: {
    status: 429,
    type: 'rate_limit_error',
    retryable: false,
    description: "The client key's request or token rate limit is exhausted.",
  },
  budget_exceeded: {
    status: 429,
    type: 'insufficient_quota',
    retryable: false,
    description: "The client key's spend budget for the period is exhausted.",
  },
  client_closed_request: {
    status: 499,
    type: 'invalid_request_error',
    retryable: false,
    description: 'The client went away before the response was complete.',
  },
  upstream_bad_request: {
    status: 400,
    type: 'invalid_request_error',
    retryable: false,
    description:
      'The provider rejected the request (a 4xx other than 401, 402, 403, 404, 408, 413 and 429): not retried, not failed over.',
  },
  upstream_auth_error: {
    status: 502,
    type: 'upstream_error',
    retryable: true,
    description: "The provider rejected the gateway's credentials (a configuration problem).",
  },
  upstream_not_found: {
    status: 404,
    type: 'invalid_request_error',
    retryable: false,
    description: 'The provider does not know the model or resource.',
  },
  upstream_rate_limited: {
    status: 429,
    type: 'rate_limit_error',
    retryable: true,
    description: 'The provider is rate-limiting the gateway.',
  },
  upstream_error: {
    status: 502,
    type: 'upstream_error',
    retryable: true,
    description:
      "The provider failed with a server error, or answered 402 (the gateway's account: credit, billing).",
  },
  upstream_unavailable: {
    status: 503,
    type: 'upstream_error',
    retryable: true,
    description: 'The provider is overloaded or unavailable.',
  },
  upstream_timeout: {
    status: 504,
    type: 'timeout_error',
    retryable: true,
    description: 'The provider did not answer within the attempt timeout.',
  },
  upstream_connection_error: {
    status: 502,
    type: 'upstream_error',
    retryable: true,
    description: 'The connection to the provider failed or was reset.',
  },
  upstream_stream_error: {
    status: 502,
    type: 'upstream_error',
    retryable: true,
    description: 'The provider stream failed or sent an error event.',
  },
  circuit_open: {
    status: 503,
    type: 'upstream_error',
    retryable: true,
    description: "The target's circuit breaker is open; no upstream call was made.",
  },
  limiter_rejected: {
    status: 429,
    type: 'rate_limit_error',
    retryable: true,
    description: "The target's upstream limiter queue is full or its wait too long.",
  },
  request_timeout: {
    status: 504,
    type: 'timeout_error',
    retryable: false,
    description: 'The overall request deadline passed.',
  },
  overloaded: {
    status: 503,
    type: 'server_error',
    retryable: false,
    description:
      'The gateway is at its concurrency limit, draining, or cannot reach a store it must ask (Redis with limits in fail-closed mode, the key store for a key it has not cached or for a key admin operation).',
  },
  duplicate_registration: {
    status: 500,
    type: 'server_error',
    retryable: false,
    description: 'A plugin, provider type or name was registered twice.',
  },
  internal_error: {
    status: 500,
    type: 'server_error',
    retryable: false,
    description: 'An unexpected failure inside the gateway.',
  },
} as const satisfies Record<SwitchyardErrorCode, ErrorCodeInfo>;

/** Whether a string is a known error code. */
export function isSwitchyardErrorCode(value: unknown): value is SwitchyardErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOG, value);
}
