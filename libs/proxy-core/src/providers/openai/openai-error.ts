import { SwitchyardError } from '../../errors/switchyard-error';
import { redactSecrets } from '../../http/redact-secrets';
import { retryAfterMsFromMessage } from '../../http/retry-after';
import { providerErrorFields, streamEventErrorCode } from '../../http/upstream-error';
import { readOpenAIStyleError } from '../../http/upstream-request';

/**
 * Reads OpenAI's error body, including Azure-style content-filter codes.
 * @see https://platform.openai.com/docs/guides/error-codes
 */
export function readOpenAIError(body: unknown): ReturnType<typeof readOpenAIStyleError> {
  const read = readOpenAIStyleError(body);
  if (read.providerCode === 'content_filter' || read.providerCode === 'content_policy_violation') {
    return { ...read, code: 'content_filter' };
  }
  return read;
}

/**
 * The error for an `{"error":…}` event inside a 200 stream, coded by what the event says
 * (`streamEventErrorCode`): a numeric `code` as a status (OpenRouter, vLLM), else the string
 * `code` or `type` (a rate limit, an invalid request, a context-window overflow). Its `param` and
 * its string `code` (else `type`) are kept as an answered error keeps them (`providerErrorFields`).
 */
export function openAIStreamError(
  provider: string,
  error: { message?: string; code?: string | number | null; type?: string; param?: string | null },
): SwitchyardError {
  const detail = error.message ? `: ${redactSecrets(error.message)}` : '';
  const code = streamEventErrorCode({
    status: error.code,
    providerCodes: [error.code, error.type],
    message: error.message,
  });
  // an event has no headers: a rate limit's wait is the one its message names, if any
  const retryAfterMs = code === 'upstream_rate_limited' ? retryAfterMsFromMessage(error.message) : undefined;
  const read = readOpenAIStyleError({ error });
  return new SwitchyardError(code, `Provider "${provider}" stream failed${detail}`, {
    provider,
    ...providerErrorFields(code, read),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}
