import { num } from '../../meter-exchange';
import type { TokenUsage } from '../../token-usage';

/**
 * Adds to token usage read from Perplexity's OpenAI-shaped counts the reasoning tokens Sonar Deep
 * Research reports at the top level of `usage` (`reasoning_tokens`). Perplexity counts them apart
 * from the completion tokens (and out of `total_tokens`) and bills them at a rate of their own
 * ($3 per million against $8 for output), so they join the output, which includes reasoning in
 * {@link TokenUsage}, as `reasoningTokens`. The one reading of them for both paths: the universal
 * proxy's meter and the pricing plugin on `/v1`.
 * @see https://docs.perplexity.ai/api-reference/chat-completions-post
 * @see https://docs.perplexity.ai/getting-started/pricing
 */
export function addPerplexityReasoning(tokens: TokenUsage, usage: Readonly<Record<string, unknown>>): void {
  const reasoning = num(usage['reasoning_tokens']);
  if (reasoning === undefined || reasoning <= 0) return;
  // reasoning already read from OpenAI's place for it is part of the completion tokens: not twice
  if (tokens.reasoningTokens !== undefined && tokens.reasoningTokens > 0) return;
  tokens.reasoningTokens = reasoning;
  tokens.outputTokens += reasoning;
}
