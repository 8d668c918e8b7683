import { SwitchyardError } from '../../errors/switchyard-error';
import { redactSecrets } from '../../http/redact-secrets';
import { providerErrorFields, streamEventErrorCode, type UpstreamFailure } from '../../http/upstream-error';
import { isGeminiErrorBody, type GeminiErrorBody } from './gemini-wire';

/**
 * Reads Google's error body (`{error:{code,message,status,details}}`). An invalid API key
 * comes back as HTTP 400 `INVALID_ARGUMENT` with reason `API_KEY_INVALID`: an auth error.
 * @see https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes
 */
export function readGeminiError(
  body: unknown,
): Pick<UpstreamFailure, 'message' | 'providerCode' | 'code' | 'retryAfterMs'> {
  if (!isGeminiErrorBody(body))
    return typeof body === 'string' && body.length > 0 ? { message: body.slice(0, 500) } : {};
  const { message, status, details } = body.error;
  const reasons = (details ?? []).map((detail) => detail.reason);
  if (reasons.includes('API_KEY_INVALID') || status === 'UNAUTHENTICATED' || status === 'PERMISSION_DENIED') {
    return { message, providerCode: status, code: 'upstream_auth_error' };
  }
  const retryAfterMs = retryDelayMs(details);
  return retryAfterMs === undefined
    ? { message, providerCode: status }
    : { message, providerCode: status, retryAfterMs };
}

/** A protobuf `Duration` in JSON: decimal seconds with an `s` (`"34s"`, `"1.5s"`). */
const DURATION = /^(\d+(?:\.\d+)?)s$/;

/**
 * The wait a `google.rpc.RetryInfo` detail asks for, in milliseconds: Google sends a 429's wait
 * in the body, not in a `Retry-After` header, so without it retries would come back too soon.
 * @see https://ai.google.dev/gemini-api/docs/rate-limits
 */
function retryDelayMs(details: GeminiErrorBody['error']['details']): number | undefined {
  for (const detail of details ?? []) {
    if (!String(detail['@type'] ?? '').endsWith('google.rpc.RetryInfo')) continue;
    const match = DURATION.exec(String(detail.retryDelay ?? ''));
    if (match !== null) return Math.ceil(Number(match[1]) * 1000);
  }
  return undefined;
}

/**
 * The error for an error object sent inside a 200 stream, coded by its HTTP-like `code` or its
 * `status` (`streamEventErrorCode`): a quota (429, `RESOURCE_EXHAUSTED`) is a rate limit with
 * the wait Google asks for, an invalid argument the request's fault, an internal error retryable.
 * Its `status` is kept as the provider code, as for an answered error.
 */
export function geminiStreamError(provider: string, error: GeminiErrorBody['error']): SwitchyardError {
  const detail = error.message === undefined ? '' : `: ${redactSecrets(error.message)}`;
  const code = streamEventErrorCode({
    status: error.code,
    providerCodes: [error.status],
    message: error.message,
  });
  const retryAfterMs = code === 'upstream_rate_limited' ? retryDelayMs(error.details) : undefined;
  return new SwitchyardError(code, `Provider "${provider}" stream failed${detail}`, {
    provider,
    ...providerErrorFields(code, { providerCode: error.status }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}
