import type { ChatCompletion } from '../../wire/openai-chat';
import { fromOpenAIResponse } from '../openai/from-openai-response';

/**
 * Azure response -> OpenAI completion. `finish_reason: content_filter` and the
 * `content_filter_results` annotations pass through as Azure sent them.
 */
export function fromAzureOpenAIResponse(body: unknown, provider: string, deployment: string): ChatCompletion {
  return fromOpenAIResponse(body, provider, deployment);
}
