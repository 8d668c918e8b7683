import type { SwitchyardErrorCode } from '../errors/error-catalog';
import { toSwitchyardError } from '../errors/switchyard-error';

/** The `error.type` values of Anthropic's error body. */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'billing_error'
  | 'timeout_error'
  | 'api_error'
  | 'overloaded_error';

/** Anthropic's error body, as the ingress sends it over HTTP and in an `error` stream event. */
export interface AnthropicIngressErrorBody {
  type: 'error';
  error: { type: AnthropicErrorType; message: string };
}

/**
 * Every Switchyard error code as Anthropic's error type: total, so a new code is a compile
 * error until it is placed. The HTTP status stays the catalog's.
 * @see https://docs.anthropic.com/en/api/errors
 */
export const ANTHROPIC_ERROR_TYPES = {
  invalid_request: 'invalid_request_error',
  invalid_options: 'api_error',
  authentication_error: 'authentication_error',
  permission_denied: 'permission_error',
  target_not_allowed: 'permission_error',
  model_not_allowed: 'permission_error',
  model_not_found: 'not_found_error',
  not_found: 'not_found_error',
  request_too_large: 'request_too_large',
  context_length_exceeded: 'invalid_request_error',
  content_filter: 'invalid_request_error',
  unsupported_feature: 'invalid_request_error',
  rate_limit_exceeded: 'rate_limit_error',
  // a spend budget is billing, not a rate: Anthropic's own type for credits run out
  budget_exceeded: 'billing_error',
  client_closed_request: 'invalid_request_error',
  upstream_bad_request: 'invalid_request_error',
  upstream_auth_error: 'api_error',
  upstream_not_found: 'not_found_error',
  upstream_rate_limited: 'rate_limit_error',
  upstream_error: 'api_error',
  upstream_unavailable: 'overloaded_error',
  upstream_timeout: 'timeout_error',
  upstream_connection_error: 'api_error',
  upstream_stream_error: 'api_error',
  circuit_open: 'overloaded_error',
  limiter_rejected: 'rate_limit_error',
  request_timeout: 'timeout_error',
  overloaded: 'overloaded_error',
  duplicate_registration: 'api_error',
  internal_error: 'api_error',
} as const satisfies Record<SwitchyardErrorCode, AnthropicErrorType>;

/**
 * Whether a message already names its param: it starts with it as a word (`max_tokens leaves no
 * room ...`, `max_tokens: ...`, not `messages.0 ...` for `messages`), or quotes it
 * (`'messages.0.content' must be string`).
 */
function namesParam(message: string, param: string): boolean {
  if (message.startsWith(param) && (message[param.length] === ' ' || message[param.length] === ':'))
    return true;
  return message.includes(`'${param}'`);
}

/**
 * Any failure as Anthropic's error body with its HTTP status (the catalog's status for the code).
 * The body has no `param` field: as Anthropic's own messages do (`messages.1.content: ...`), the
 * message starts with the param at fault when the error names one and the message does not
 * already (a request that fails the schema is told `Invalid request: 'messages.0.content' ...`).
 */
export function toAnthropicError(thrown: unknown): { status: number; body: AnthropicIngressErrorBody } {
  const error = toSwitchyardError(thrown);
  const message =
    error.param === undefined || namesParam(error.message, error.param)
      ? error.message
      : `${error.param}: ${error.message}`;
  return {
    status: error.status,
    body: { type: 'error', error: { type: ANTHROPIC_ERROR_TYPES[error.code], message } },
  };
}
