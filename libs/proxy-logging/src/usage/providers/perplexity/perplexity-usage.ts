import { num, record } from '../../meter-exchange';
import type { TokenUsage } from '../../token-usage';

// the Perplexity models that count reasoning apart from the completion tokens (Sonar Deep Research)
const REASONS_APART = /deep-research/;

// Sonar Deep Research reports at the top level of `usage` its reasoning tokens (`reasoning_tokens`),
// which it counts apart from the completion tokens (and out of `total_tokens`) and bills at a rate
// of their own ($3 per million against $8 for output): they join the output, which includes
// reasoning in TokenUsage, as `reasoningTokens`, when shown to be apart from the completion tokens
// (the model is deep research, a `cost.reasoning_tokens_cost` above 0, or more of them than the
// completion holds)
function addReasoning(
  tokens: TokenUsage,
  usage: Readonly<Record<string, unknown>>,
  model: string | undefined,
): void {
  const reasoning = num(usage['reasoning_tokens']);
  if (reasoning === undefined || reasoning <= 0) return;
  // reasoning already read from OpenAI's place for it is part of the completion tokens: not twice
  if (tokens.reasoningTokens !== undefined && tokens.reasoningTokens > 0) return;
  // only reasoning shown to be apart from the completion tokens; another model's top-level count
  // may be a share of its completion tokens
  const billedApart = (num(record(usage['cost'])['reasoning_tokens_cost']) ?? 0) > 0;
  const completion = num(usage['completion_tokens']) ?? 0;
  const apart = billedApart || (model !== undefined && REASONS_APART.test(model)) || reasoning > completion;
  if (!apart) return;
  tokens.reasoningTokens = reasoning;
  tokens.outputTokens += reasoning;
}

/**
 * Adds to token usage read from Perplexity's OpenAI-shaped counts what Sonar Deep Research reports
 * at the top level of `usage`, each billed at a rate of its own: its reasoning tokens
 * (`reasoning_tokens`, joining the output as `reasoningTokens` when shown to be apart from the
 * completion tokens: `model`, the answer's or on `/v1` the upstream one, is deep research, a
 * `cost.reasoning_tokens_cost` above 0, or more of them than the completion holds) and its
 * citation tokens (`citation_tokens`, in neither the prompt nor the completion tokens, kept apart
 * as `citationTokens`). The one reading of them for both paths: the universal proxy's meter
 * and the pricing plugin on `/v1`.
 * @see https://docs.perplexity.ai/api-reference/chat-completions-post
 * @see https://docs.perplexity.ai/getting-started/pricing
 */
export function addPerplexityTokens(
  tokens: TokenUsage,
  usage: Readonly<Record<string, unknown>>,
  model: string | undefined,
): void {
  addReasoning(tokens, usage, model);
  const citations = num(usage['citation_tokens']);
  if (citations !== undefined && citations > 0) tokens.citationTokens = citations;
}
