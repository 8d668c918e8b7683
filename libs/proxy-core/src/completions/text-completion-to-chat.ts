import type { ChatCompletion, ChatCompletionChunk } from '../wire/openai-chat';
import type { TextCompletion } from '../wire/openai-completions';

/**
 * A native `text_completion` as the gateway's internal chat answer: each choice's text as the
 * message content (an echoed prompt included), its log probabilities kept on the choice, so
 * hooks, the cache and the request log see one shape whichever way the answer was made.
 */
export function textCompletionToChat(completion: TextCompletion): ChatCompletion {
  return {
    id: completion.id,
    object: 'chat.completion',
    created: completion.created,
    model: completion.model,
    choices: completion.choices.map((choice) => ({
      index: choice.index,
      message: { role: 'assistant', content: choice.text },
      finish_reason: choice.finish_reason,
      logprobs: choice.logprobs,
    })),
    ...(completion.usage === undefined || completion.usage === null ? {} : { usage: completion.usage }),
    ...(completion.system_fingerprint === undefined
      ? {}
      : { system_fingerprint: completion.system_fingerprint }),
  };
}

/** One native `text_completion` stream chunk as an internal chat chunk (see {@link textCompletionToChat}). */
export function textCompletionChunkToChat(chunk: TextCompletion): ChatCompletionChunk {
  return {
    id: chunk.id,
    object: 'chat.completion.chunk',
    created: chunk.created,
    model: chunk.model,
    choices: chunk.choices.map((choice) => ({
      index: choice.index,
      // a host may send a choice without text (one that carries only content-filter annotations)
      delta: typeof choice.text === 'string' && choice.text.length > 0 ? { content: choice.text } : {},
      finish_reason: choice.finish_reason,
      logprobs: choice.logprobs,
    })),
    ...(chunk.usage === undefined || chunk.usage === null ? {} : { usage: chunk.usage }),
  };
}
