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
  const options = record(record(requestJson(exchange))['web_search_options']);
  const contextSize = str(usage['search_context_size']) ?? str(options['search_context_size']);
  if (contextSize !== undefined) metered.attributes = { ...metered.attributes, search_context_size: contextSize };
  // without a stated cost, the request fee is priced at this size's rate
  if (contextSize !== undefined && metered.tokens !== undefined) metered.tokens.searchContextSize = contextSize;
  // Pro Search (`pro`, or `auto` letting a classifier choose) has a fee of its own; it runs on
  // streamed requests only, one not streamed falling back to standard Sonar Pro. The answer
  // does not say which search ran, so the request's type is kept as asked
  const searchType = str(options['search_type']);
  if (searchType !== undefined) {
    metered.attributes = { ...metered.attributes, search_type: searchType };
    if (isEventStream(exchange) && metered.tokens !== undefined) metered.tokens.searchType = searchType;
  }
  return metered;
}

/**
 * Perplexity: OpenAI-shaped usage, whole and streamed; search queries of deep research; the
 * search context size and Pro Search type the request fee depends on; the cost Perplexity
 * reports (`usage.cost.total_cost`, request fee included) wins over list prices.
 * @see https://docs.perplexity.ai/api-reference/chat-completions-post
 */
export const perplexityMeter: ProviderMeter = {
  name: 'perplexity',
  label: 'Perplexity',
  hosts: ['api.perplexity.ai'],
  units: 'tokens (input, output); search queries; reported cost',
  meter,
};
