import { isEventStream, num, record, requestJson, str, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';
import { openAIUsageRecord } from '../openai/read-openai-usage';
import { perplexitySearchOf } from './perplexity-search';
import { addPerplexityTokens } from './perplexity-usage';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  const metered = meterOpenAIShaped('perplexity', exchange);
  if (metered === undefined) return undefined;
  // the last `usage` of the answer: a stream repeats it, the final chunk with the cost
  const usage = openAIUsageRecord(exchange) ?? {};
  // deep research bills each search query it ran
  const searches = num(usage['num_search_queries']);
  if (metered.tokens !== undefined && searches) metered.tokens.webSearches = searches;
  // and reasons and cites apart from its prompt and completion tokens, each at a rate of its own
  if (metered.tokens !== undefined) addPerplexityTokens(metered.tokens, usage, metered.model);
  // the citation tokens also kept as an attribute, for the log
  const citations = num(usage['citation_tokens']);
  if (citations) metered.attributes = { ...metered.attributes, citation_tokens: citations };
  // the request fee depends on the search context size (low, medium, high): the cost
  // Perplexity states for the request wins over one priced from the size
  const cost = num(record(usage['cost'])['total_cost']);
  if (cost !== undefined) metered.reportedCostUsd = cost;
  // the answer says which size was used; the request, which one was asked for, and whether Pro
  // Search (`pro`, or `auto` letting a classifier choose), whose fee is its own, on a streamed
  // request (see perplexitySearchOf). The answer does not say which search ran, so the
  // request's type is kept as asked
  const options = record(record(requestJson(exchange))['web_search_options']);
  const search = perplexitySearchOf(options, str(usage['search_context_size']), isEventStream(exchange));
  if (search.searchContextSize !== undefined)
    metered.attributes = { ...metered.attributes, search_context_size: search.searchContextSize };
  const askedType = str(options['search_type']);
  if (askedType !== undefined) metered.attributes = { ...metered.attributes, search_type: askedType };
  // without a stated cost, the request fee is priced by this size and search
  if (metered.tokens !== undefined) Object.assign(metered.tokens, search);
  return metered;
}

/**
 * Perplexity: OpenAI-shaped usage, whole and streamed; search queries, reasoning and citation
 * tokens of deep research (the citation tokens also kept as an attribute); the search context size
 * and Pro Search type the request fee depends on; the cost Perplexity reports
 * (`usage.cost.total_cost`, request fee included) wins over list prices.
 * @see https://docs.perplexity.ai/api-reference/chat-completions-post
 */
export const perplexityMeter: ProviderMeter = {
  name: 'perplexity',
  label: 'Perplexity',
  hosts: ['api.perplexity.ai'],
  units: 'tokens (input, output, reasoning, citation); search queries; reported cost',
  meter,
};
