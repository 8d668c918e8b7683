import type { SwitchyardErrorCode } from '../../errors/error-catalog';
import { SwitchyardError } from '../../errors/switchyard-error';
import { redactSecrets } from '../../http/redact-secrets';
import { providerErrorFields, type UpstreamFailure } from '../../http/upstream-error';

/** Anthropic error types whose meaning is clearer than their HTTP status. */
const CODE_BY_TYPE: Readonly<Record<string, SwitchyardErrorCode>> = {
  overloaded_error: 'upstream_unavailable',
  rate_limit_error: 'upstream_rate_limited',
  authentication_error: 'upstream_auth_error',
  permission_error: 'upstream_auth_error',
  not_found_error: 'upstream_not_found',
  request_too_large: 'request_too_large',
};

/**
 * Reads Anthropic's `{type:'error', error:{type, message}}` body. The HTTP status decides the
 * code (529 overloaded is `upstream_unavailable`); `error.type` is kept as the provider code.
 * @see https://docs.anthropic.com/en/api/errors
 */
export function readAnthropicError(
  body: unknown,
): Pick<UpstreamFailure, 'message' | 'providerCode' | 'code'> {
  if (typeof body !== 'object' || body === null) return {};
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return {};
  const { type, message } = error as { type?: unknown; message?: unknown };
  return {
    message: typeof message === 'string' ? message : undefined,
    providerCode: typeof type === 'string' ? type : undefined,
    code: type === 'overloaded_error' ? 'upstream_unavailable' : undefined,
  };
}

/**
 * The error for an `error` event inside a 200 stream: overloaded and rate-limit errors keep
 * their meaning (both retryable); anything else is an `upstream_stream_error`. `error.type` is
 * kept as the provider code, as for an answered error.
 */
export function anthropicStreamError(
  provider: string,
  error: { type?: string; message?: string },
): SwitchyardError {
  const mapped = error.type === undefined ? undefined : CODE_BY_TYPE[error.type];
  const code: SwitchyardErrorCode =
    mapped === 'upstream_unavailable' || mapped === 'upstream_rate_limited'
      ? mapped
      : 'upstream_stream_error';
  const detail = error.message ? `: ${redactSecrets(error.message)}` : '';
  return new SwitchyardError(code, `Provider "${provider}" stream failed${detail}`, {
    provider,
    ...providerErrorFields(code, { providerCode: error.type }),
  });
}
