import { invalidRequest } from './chat-message-parts';
import type { ChatCompletionRequest } from './openai-chat';

/** The `reasoning_effort` values OpenAI defines, from no reasoning to the most. */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const;

/** One of {@link REASONING_EFFORTS}. */
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/**
 * The request's `reasoning_effort`, undefined when it sets none (or null). An effort OpenAI does
 * not define is refused as `invalid_request` naming the parameter: a provider that translates it
 * must never send a guess on in its place.
 */
export function reasoningEffortOf(request: ChatCompletionRequest): ReasoningEffort | undefined {
  const effort: unknown = request.reasoning_effort;
  if (effort === undefined || effort === null) return undefined;
  if (!REASONING_EFFORTS.includes(effort as ReasoningEffort)) {
    throw invalidRequest(
      `reasoning_effort must be one of ${REASONING_EFFORTS.map((name) => `"${name}"`).join(', ')}.`,
      'reasoning_effort',
    );
  }
  return effort as ReasoningEffort;
}

/** Whether `effort` asks for no more reasoning than `than`. */
export function effortAtMost(effort: ReasoningEffort, than: ReasoningEffort): boolean {
  return REASONING_EFFORTS.indexOf(effort) <= REASONING_EFFORTS.indexOf(than);
}
