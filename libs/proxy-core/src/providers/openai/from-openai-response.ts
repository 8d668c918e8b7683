import type { ChatCompletion } from '../../wire/openai-chat';
import { SwitchyardError } from '../../errors/switchyard-error';
import { isChatCompletionBody } from './openai-wire';

/**
 * Normalises an OpenAI-compatible response: checks its shape and fills the fields some
 * compatible hosts omit (`object`, `created`, the requested model).
 */
export function fromOpenAIResponse(body: unknown, provider: string, model: string): ChatCompletion {
  if (!isChatCompletionBody(body)) {
    throw new SwitchyardError('upstream_error', `Provider "${provider}" sent a body that is not a chat completion.`, { provider });
  }
  return {
    ...body,
    object: 'chat.completion',
    created: typeof body.created === 'number' ? body.created : Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' && body.model.length > 0 ? body.model : model,
  };
}
