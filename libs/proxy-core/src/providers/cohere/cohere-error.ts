import { SwitchyardError } from '../../errors/switchyard-error';
import { redactSecrets } from '../../http/redact-secrets';
import { readOpenAIStyleError } from '../../http/upstream-request';
import type { UpstreamFailure } from '../../http/upstream-error';

/**
 * Reads Cohere's error body, `{"id": "...", "message": "..."}`.
 * @see https://docs.cohere.com/reference/errors
 */
export function readCohereError(body: unknown): Pick<UpstreamFailure, 'message' | 'providerCode' | 'code'> {
  return readOpenAIStyleError(body);
}

/** The error for a failure reported inside a 200 stream. */
export function cohereStreamError(provider: string, message: string | undefined): SwitchyardError {
  const detail = message === undefined ? '' : `: ${redactSecrets(message)}`;
  return new SwitchyardError('upstream_stream_error', `Provider "${provider}" stream failed${detail}`, {
    provider,
  });
}
