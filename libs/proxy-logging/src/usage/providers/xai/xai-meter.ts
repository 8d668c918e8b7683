import { num, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';
import { openAIUsageRecord } from '../openai/read-openai-usage';

// xAI's cost unit: 1 USD is 10^10 ticks (https://docs.x.ai/developers/cost-tracking)
const TICKS_PER_USD = 1e10;

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  const metered = meterOpenAIShaped('xai', exchange);
  if (metered === undefined) return undefined;
  const usage = openAIUsageRecord(exchange) ?? {};
  // Grok's reasoning tokens are counted apart from its completion tokens and billed at the
  // completion rate, so they are added to the output (which includes reasoning here), unless
  // the total says the output already holds them
  const tokens = metered.tokens;
  if (tokens?.reasoningTokens) {
    const total = num(usage['total_tokens']);
    if (total === undefined || total !== tokens.inputTokens + tokens.outputTokens)
      tokens.outputTokens += tokens.reasoningTokens;
  }
  // the amount billed for the request, caching discounts and server-side tools included
  const ticks = num(usage['cost_in_usd_ticks']);
  if (ticks !== undefined) metered.reportedCostUsd = ticks / TICKS_PER_USD;
  return metered;
}

/**
 * xAI: OpenAI-shaped usage, whole and streamed; cached prompt tokens
 * (`prompt_tokens_details.cached_tokens`), reasoning tokens (counted apart from the completion
 * tokens); the cost xAI reports (`usage.cost_in_usd_ticks`) wins over list prices.
 * @see https://docs.x.ai/docs/api-reference
 * @see https://docs.x.ai/developers/cost-tracking
 */
export const xaiMeter: ProviderMeter = {
  name: 'xai',
  label: 'xAI',
  hosts: ['api.x.ai'],
  units: 'tokens (input, cached, output, reasoning); reported cost',
  meter,
};
