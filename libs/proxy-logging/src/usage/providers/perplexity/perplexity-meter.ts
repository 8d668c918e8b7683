import { isEventStream, num, record, requestJson, responseJson, sseJson, str, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';

// the last `usage` of the answer: a stream repeats it, the final chunk with the cost
function perplexityUsage(exchange: MeterExchange): Record<string, unknown> | undefined {
  if (!isEventStream(exchange)) return record(record(responseJson(exchange))['usage']);
  let usage: Record<string, unknown> | undefined;
  for (const { json } of sseJson(exchange)) {
    const found = record(json)['usage'];
    if (found !== undefined && found !== null) usage = record(found);
  }
  return usage;
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  const metered = meterOpenAIShaped('perplexity', exchange);
  if (metered === undefined) return undefined;
  const usage = perplexityUsage(exchange) ?? {};
  // deep research bills each search query it ran
  const searches = num(usage['num_search_queries']);
  if (metered.tokens !== undefined && searches) metered.tokens.webSearches = searches;
  // the request fee depends on the search context size (low, medium, high): the cost
  // Perplexity states for the request wins over one priced from the size
  const cost = num(record(usage['cost'])['total_cost']);
  if (cost !== undefined) metered.reportedCostUsd = cost;
  // the answer says which size was used; the request, which one was asked for
  const asked = record(record(requestJson(exchange))['web_search_options'])['search_context_size'];
  const contextSize = str(usage['search_context_size']) ?? str(asked);
  if (contextSize !== undefined) metered.attributes = { ...metered.attributes, search_context_size: contextSize };
  // without a stated cost, the request fee is priced at this size's rate
  if (contextSize !== undefined && metered.tokens !== undefined) metered.tokens.searchContextSize = contextSize;
  return metered;
}

/**
 * Perplexity: OpenAI-shaped usage, whole and streamed; search queries of deep research; the
 * cost Perplexity reports (`usage.cost.total_cost`, request fee by search context size
 * included) wins over list prices.
 * @see https://docs.perplexity.ai/api-reference/chat-completions-post
 */
export const perplexityMeter: ProviderMeter = {
  name: 'perplexity',
  label: 'Perplexity',
  hosts: ['api.perplexity.ai'],
  units: 'tokens (input, output); search queries; reported cost',
  meter,
};
