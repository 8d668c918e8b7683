import type { ChatCompletionRequest } from '../../wire/openai-chat';
import { effortAtMost, reasoningEffortOf, type ReasoningEffort } from '../../wire/reasoning-effort';

// the thinking Gemini models, by family: 2.5 takes a budget of thinking tokens, 3 and later a
// thinking level. Any other id (Gemma, LearnLM, a tuned model, an alias such as
// gemini-flash-latest whose family is not in its name) gets no thinkingConfig: Google answers
// 400 to a thinkingLevel a model before 3 does not take, and Gemma refuses a thinkingBudget
const BUDGETED = /(?:^|\/)gemini-2\.5-/;
const LEVELLED = /(?:^|\/)gemini-(?:[3-9]|\d{2,})(?:\.\d+)?-/;
// variants of those families that generate images, speech or live audio, whose thinking
// settings are not documented: none is sent to them
const NOT_THINKING_VARIANT = /-(?:image|tts|audio|live)\b/;
// 2.5 Pro cannot stop thinking: 128 is the least it takes
const ALWAYS_THINKS = /(?:^|\/)gemini-2\.5-pro/;

/**
 * Gemini 2.5's budget for each effort: the tokens Google's own OpenAI compatibility layer gives
 * `low`, `medium` and `high`; `minimal` at 512, the least 2.5 Flash-Lite takes (Pro 128, Flash 0);
 * `xhigh` at 24,576, the most 2.5 Flash takes; `none` turns thinking off (on 2.5 Pro, which
 * refuses that, the least it takes, 128).
 * @see https://ai.google.dev/gemini-api/docs/thinking#set-budget
 */
const BUDGETS: Readonly<Record<ReasoningEffort, number>> = {
  none: 0,
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24_576,
  xhigh: 24_576,
};

/**
 * OpenAI's `reasoning_effort` as Gemini's `thinkingConfig` for `model` (the upstream model id),
 * undefined when the request sets none or the model is not a thinking Gemini its id names (see
 * the families above). Gemini 2.5 gets a
 * `thinkingBudget` ({@link BUDGETS}). Gemini 3 and later get a `thinkingLevel`, `low` for the
 * efforts up to `low` and `high` above it: the two levels every one of them takes (3 Pro refuses
 * `minimal` and `medium`, others refuse `xhigh`), so an effort a client sends to every model
 * never turns a request that worked without it into a 400. An effort OpenAI does not define is
 * refused as `invalid_request`, never sent on as a default.
 * @see https://ai.google.dev/gemini-api/docs/thinking
 */
export function toGeminiThinking(
  request: ChatCompletionRequest,
  model: string,
): Record<string, unknown> | undefined {
  const effort = reasoningEffortOf(request);
  if (effort === undefined) return undefined;
  if (NOT_THINKING_VARIANT.test(model)) return undefined;
  if (BUDGETED.test(model)) {
    const budget = BUDGETS[effort];
    return { thinkingBudget: budget === 0 && ALWAYS_THINKS.test(model) ? 128 : budget };
  }
  if (!LEVELLED.test(model)) return undefined;
  return { thinkingLevel: effortAtMost(effort, 'low') ? 'low' : 'high' };
}
