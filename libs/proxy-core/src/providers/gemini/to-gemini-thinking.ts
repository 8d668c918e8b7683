import { invalidRequest } from '../../wire/chat-message-parts';
import type { ChatCompletionRequest } from '../../wire/openai-chat';

/** The `reasoning_effort` values OpenAI defines, from no reasoning to the most. */
const EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const;
type Effort = (typeof EFFORTS)[number];

// Gemini 1.x and 2.0 do not think: they take no thinkingConfig
const NO_THINKING = /(?:^|\/)gemini-(?:1\.|2\.0-)/;
// Gemini 2.5 takes a budget of thinking tokens; Gemini 3 and later a thinking level
const BUDGETED = /(?:^|\/)gemini-2\.5-/;
// 2.5 Pro cannot stop thinking: 128 is the least it takes
const ALWAYS_THINKS = /(?:^|\/)gemini-2\.5-pro/;

/**
 * Gemini 2.5's budget for each effort: the tokens Google's own OpenAI compatibility layer gives
 * `low`, `medium` and `high`; `minimal` at 512, the least 2.5 Flash-Lite takes (Pro 128, Flash 0);
 * `xhigh` at 24,576, the most 2.5 Flash takes; `none` turns thinking off (on 2.5 Pro, which
 * refuses that, the least it takes, 128).
 * @see https://ai.google.dev/gemini-api/docs/thinking#set-budget
 */
const BUDGETS: Readonly<Record<Effort, number>> = {
  none: 0,
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24_576,
  xhigh: 24_576,
};

/**
 * OpenAI's `reasoning_effort` as Gemini's `thinkingConfig` for `model` (the upstream model id),
 * undefined when the request sets none or the model does not think. Gemini 2.5 gets a
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
  const effort: unknown = request.reasoning_effort;
  if (effort === undefined || effort === null) return undefined;
  if (!EFFORTS.includes(effort as Effort)) {
    throw invalidRequest(
      `reasoning_effort must be one of ${EFFORTS.map((name) => `"${name}"`).join(', ')}.`,
      'reasoning_effort',
    );
  }
  if (NO_THINKING.test(model)) return undefined;
  if (BUDGETED.test(model)) {
    const budget = BUDGETS[effort as Effort];
    return { thinkingBudget: budget === 0 && ALWAYS_THINKS.test(model) ? 128 : budget };
  }
  return { thinkingLevel: EFFORTS.indexOf(effort as Effort) <= EFFORTS.indexOf('low') ? 'low' : 'high' };
}
