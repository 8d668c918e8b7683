import { SwitchyardError } from '../../errors/switchyard-error';
import { redactSecrets } from '../../http/redact-secrets';
import type { UpstreamFailure } from '../../http/upstream-error';

/**
 * Reads Ollama's error body, `{"error":"<message>"}`.
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md#errors
 */
export function readOllamaError(body: unknown): Pick<UpstreamFailure, 'message' | 'providerCode' | 'code'> {
  if (typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string') {
    return { message: (body as { error: string }).error };
  }
  return typeof body === 'string' && body.length > 0 ? { message: body.slice(0, 500) } : {};
}

/** The error for an `{"error":…}` line inside a 200 stream. */
export function ollamaStreamError(provider: string, message: string): SwitchyardError {
  return new SwitchyardError(
    'upstream_stream_error',
    `Provider "${provider}" stream failed: ${redactSecrets(message)}`,
    { provider },
  );
}
