import type { ChatDelta } from '../wire/openai-chat';

const NO_DELTA: ChatDelta = Object.freeze({});

/**
 * A stream choice's delta, empty for a choice that has none: an OpenAI-compatible host may
 * send choices that carry only annotations, despite the chunk type (Azure's asynchronous
 * content filter, reached at its `/openai/v1` as an `openai` provider).
 * @see https://learn.microsoft.com/azure/foundry/openai/concepts/content-streaming
 */
export function deltaOf(choice: { readonly delta?: ChatDelta | null }): ChatDelta {
  return choice.delta ?? NO_DELTA;
}
