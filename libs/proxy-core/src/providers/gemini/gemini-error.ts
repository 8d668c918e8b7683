import { SwitchyardError } from '../../errors/switchyard-error';
import { redactSecrets } from '../../http/redact-secrets';
import type { UpstreamFailure } from '../../http/upstream-error';
import { isGeminiErrorBody, type GeminiErrorBody } from './gemini-wire';

/**
 * Reads Google's error body (`{error:{code,message,status,details}}`). An invalid API key
 * comes back as HTTP 400 `INVALID_ARGUMENT` with reason `API_KEY_INVALID`: an auth error.
 * @see https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes
 */
export function readGeminiError(body: unknown): Pick<UpstreamFailure, 'message' | 'providerCode' | 'code'> {
  if (!isGeminiErrorBody(body))
    return typeof body === 'string' && body.length > 0 ? { message: body.slice(0, 500) } : {};
  const { message, status, details } = body.error;
  const reasons = (details ?? []).map((detail) => detail.reason);
  if (reasons.includes('API_KEY_INVALID') || status === 'UNAUTHENTICATED' || status === 'PERMISSION_DENIED') {
    return { message, providerCode: status, code: 'upstream_auth_error' };
  }
  return { message, providerCode: status };
}

/** The error for an error object sent inside a 200 stream. */
export function geminiStreamError(provider: string, error: GeminiErrorBody['error']): SwitchyardError {
  const detail = error.message === undefined ? '' : `: ${redactSecrets(error.message)}`;
  return new SwitchyardError('upstream_stream_error', `Provider "${provider}" stream failed${detail}`, {
    provider,
  });
}
