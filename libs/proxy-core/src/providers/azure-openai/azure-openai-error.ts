import type { UpstreamFailure } from '../../http/upstream-error';
import { readOpenAIError } from '../openai/openai-error';

/**
 * Reads Azure's error bodies: OpenAI's shape, a bare `{statusCode, message}` from the API
 * gateway, and content-filter refusals (`code: content_filter` or an inner
 * `ResponsibleAIPolicyViolation`) -> `content_filter`.
 * @see https://learn.microsoft.com/en-us/azure/ai-services/openai/concepts/content-filter
 */
export function readAzureOpenAIError(
  body: unknown,
): Pick<UpstreamFailure, 'message' | 'providerCode' | 'code'> {
  const read = readOpenAIError(body);
  const inner = (body as { error?: { innererror?: { code?: unknown } } } | null)?.error?.innererror?.code;
  if (inner === 'ResponsibleAIPolicyViolation') return { ...read, code: 'content_filter' };
  return read;
}
