import { header, num, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  const metered = meterOpenAIShaped('fireworks', exchange);
  // the documented usage has no cached count; the answer's `fireworks-cached-prompt-tokens`
  // header says how many of the prompt tokens were cached, billed at the cached rate
  const tokens = metered?.tokens;
  if (tokens !== undefined && tokens.cachedInputTokens === undefined) {
    const cached = num(header(exchange.responseHeaders, 'fireworks-cached-prompt-tokens'));
    if (cached) tokens.cachedInputTokens = Math.min(cached, tokens.inputTokens);
  }
  return metered;
}

/**
 * Fireworks AI: OpenAI-shaped usage, whole and streamed, models named
 * `accounts/fireworks/models/<model>`; cached prompt tokens from the usage's details or else
 * the `fireworks-cached-prompt-tokens` response header.
 * @see https://docs.fireworks.ai/api-reference/post-chatcompletions
 * @see https://docs.fireworks.ai/guides/prompt-caching
 */
export const fireworksMeter: ProviderMeter = {
  name: 'fireworks',
  label: 'Fireworks AI',
  hosts: ['api.fireworks.ai'],
  units: 'tokens (input, cached, output)',
  meter,
};
