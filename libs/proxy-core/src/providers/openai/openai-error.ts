import { SwitchyardError } from '../../errors/switchyard-error';
import { redactSecrets } from '../../http/redact-secrets';
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

/** The error for an `{"error":…}` event inside a 200 stream. */
export function openAIStreamError(
  provider: string,
  error: { message?: string; code?: string | null; type?: string },
): SwitchyardError {
  const detail = error.message ? `: ${redactSecrets(error.message)}` : '';
  return new SwitchyardError('upstream_stream_error', `Provider "${provider}" stream failed${detail}`, {
    provider,
  });
}
