import { num, record, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';
import { openAIUsageRecord } from '../openai/read-openai-usage';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  const metered = meterOpenAIShaped('openrouter', exchange);
  if (metered === undefined) return undefined;
  const usage = openAIUsageRecord(exchange) ?? {};
  // `cost` is what OpenRouter charged the account, in credits (one credit a US dollar). With a
  // key of your own (BYOK, `is_byok`) that is only OpenRouter's fee, and the provider bills
  // your key `cost_details.upstream_inference_cost` besides
  const cost = num(usage['cost']);
  if (cost !== undefined) {
    const upstream =
      usage['is_byok'] === true ? num(record(usage['cost_details'])['upstream_inference_cost']) : undefined;
    metered.reportedCostUsd = cost + (upstream ?? 0);
  }
  return metered;
}

/**
 * OpenRouter: OpenAI-shaped usage, whole and streamed (in the last event), models named
 * `<vendor>/<model>`; the cost OpenRouter reports (`usage.cost`, plus the upstream cost of a
 * BYOK request) wins over list prices.
 * @see https://openrouter.ai/docs/api-reference/overview
 * @see https://openrouter.ai/docs/use-cases/usage-accounting
 */
export const openRouterMeter: ProviderMeter = {
  name: 'openrouter',
  label: 'OpenRouter',
  hosts: ['openrouter.ai'],
  units: 'tokens (input, cached, output, reasoning); reported cost',
  meter,
};
