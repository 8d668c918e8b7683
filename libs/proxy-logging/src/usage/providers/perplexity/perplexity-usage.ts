import { num, record } from '../../meter-exchange';
import type { TokenUsage } from '../../token-usage';

// Sonar Deep Research reports at the top level of `usage` its reasoning tokens (`reasoning_tokens`),
// which it counts apart from the completion tokens (and out of `total_tokens`) and bills at a rate
// of their own ($3 per million against $8 for output): they join the output, which includes
// reasoning in TokenUsage, as `reasoningTokens`, when shown to be apart from the completion tokens
// (a `cost.reasoning_tokens_cost`, or more of them than the completion holds)
function addReasoning(tokens: TokenUsage, usage: Readonly<Record<string, unknown>>): void {
  const reasoning = num(usage['reasoning_tokens']);
  if (reasoning === undefined || reasoning <= 0) return;
  // reasoning already read from OpenAI's place for it is part of the completion tokens: not twice
  if (tokens.reasoningTokens !== undefined && tokens.reasoningTokens > 0) return;
  // only reasoning shown to be apart from the completion tokens: billed apart (deep research
  // states its cost), or more of it than the completion holds; another model's top-level count
  // may be a share of its completion tokens
  const billedApart = num(record(usage['cost'])['reasoning_tokens_cost']) !== undefined;
  const completion = num(usage['completion_tokens']) ?? 0;
  if (!billedApart && reasoning <= completion) return;
  tokens.reasoningTokens = reasoning;
  tokens.outputTokens += reasoning;
}

/**
 * Adds to token usage read from Perplexity's OpenAI-shaped counts what Sonar Deep Research reports
 * at the top level of `usage`, each billed at a rate of its own: its reasoning tokens
 * (`reasoning_tokens`, joining the output as `reasoningTokens` when shown to be apart from the
 * completion tokens: a `cost.reasoning_tokens_cost`, or more of them than the completion holds)
 * and its citation tokens (`citation_tokens`, in neither the prompt nor the completion tokens, kept
 * apart as `citationTokens`). The one reading of them for both paths: the universal proxy's meter
 * and the pricing plugin on `/v1`.
 * @see https://docs.perplexity.ai/api-reference/chat-completions-post
 * @see https://docs.perplexity.ai/getting-started/pricing
 */
export function addPerplexityTokens(tokens: TokenUsage, usage: Readonly<Record<string, unknown>>): void {
  addReasoning(tokens, usage);
  const citations = num(usage['citation_tokens']);
  if (citations !== undefined && citations > 0) tokens.citationTokens = citations;
}
