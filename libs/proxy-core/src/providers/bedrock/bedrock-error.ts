import type { SwitchyardErrorCode } from '../../errors/error-catalog';
import { SwitchyardError } from '../../errors/switchyard-error';
import { redactSecrets } from '../../http/redact-secrets';
import { providerErrorFields, type UpstreamFailure } from '../../http/upstream-error';
import type { UpstreamResponse } from '../../http/upstream-request';

/**
 * Bedrock error types whose meaning is clearer than their HTTP status (by lower-cased
 * name: HTTP errors say `ThrottlingException`, stream exceptions `throttlingException`).
 */
const CODE_BY_TYPE: Readonly<Record<string, SwitchyardErrorCode>> = {
  accessdeniedexception: 'upstream_auth_error',
  unrecognizedclientexception: 'upstream_auth_error',
  invalidsignatureexception: 'upstream_auth_error',
  expiredtokenexception: 'upstream_auth_error',
  incompletesignature: 'upstream_auth_error',
  resourcenotfoundexception: 'upstream_not_found',
  throttlingexception: 'upstream_rate_limited',
  servicequotaexceededexception: 'upstream_rate_limited',
  serviceunavailableexception: 'upstream_unavailable',
  modelnotreadyexception: 'upstream_unavailable',
  modeltimeoutexception: 'upstream_timeout',
  // a 424: the model failed while processing the request (not the request's fault), so another
  // attempt or target may succeed; as any 4xx it would be upstream_bad_request, not retried
  modelerrorexception: 'upstream_error',
};

/**
 * The error type an AWS error names, from `x-amzn-errortype`
 * (`ValidationException:http://internal.amazon.com/...`) or the body's `__type`.
 */
function errorType(body: Record<string, unknown>, headers: UpstreamResponse['headers']): string | undefined {
  const header = headers['x-amzn-errortype'];
  const raw =
    (Array.isArray(header) ? header[0] : header) ??
    (typeof body['__type'] === 'string' ? body['__type'] : undefined);
  if (raw === undefined || raw.length === 0) return undefined;
  // the type may carry a namespace prefix (`com.amazon.coral#X`) or a URL suffix (`X:http://...`)
  const name = raw.split(':')[0] ?? raw;
  return name.slice(name.lastIndexOf('#') + 1);
}

/**
 * Reads a Bedrock error: the type from `x-amzn-errortype` decides the code where it is
 * clearer than the status (a 400 `ServiceQuotaExceededException` is a rate limit, a 429
 * `ModelNotReadyException` an unavailable model); the message from `{message}` / `{Message}`.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_Errors
 */
export function readBedrockError(
  body: unknown,
  headers: UpstreamResponse['headers'],
): Pick<UpstreamFailure, 'message' | 'providerCode' | 'code'> {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const type = errorType(record, headers);
  const message =
    typeof record['message'] === 'string'
      ? record['message']
      : typeof record['Message'] === 'string'
        ? record['Message']
        : typeof body === 'string' && body.length > 0
          ? body.slice(0, 500)
          : undefined;
  return {
    message,
    providerCode: type,
    code: type === undefined ? undefined : CODE_BY_TYPE[type.toLowerCase()],
  };
}

/**
 * The error for an exception (or protocol error) message inside a 200 event stream:
 * throttling and unavailability keep their meaning (both retryable), a validation exception
 * is the request's fault (not retried), anything else is an `upstream_stream_error`. The
 * exception's type is kept as the provider code, as an answered error's `x-amzn-errortype` is.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html#API_runtime_ConverseStream_ResponseSyntax
 */
export function bedrockStreamError(
  provider: string,
  type: string,
  message: string | undefined,
): SwitchyardError {
  const lower = type.toLowerCase();
  const mapped = CODE_BY_TYPE[lower];
  let code: SwitchyardErrorCode = 'upstream_stream_error';
  if (mapped === 'upstream_rate_limited' || mapped === 'upstream_unavailable') code = mapped;
  else if (lower === 'validationexception') code = 'upstream_bad_request';
  const detail = message ? `: ${redactSecrets(message)}` : '';
  return new SwitchyardError(code, `Provider "${provider}" stream failed (${type})${detail}`, {
    provider,
    ...providerErrorFields(code, { providerCode: type }),
  });
}
