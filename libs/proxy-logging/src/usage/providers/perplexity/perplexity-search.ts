import { record, str } from '../../meter-exchange';
import type { TokenUsage } from '../../token-usage';

// what the request fee depends on, as token usage carries it
type SearchFields = Pick<TokenUsage, 'searchContextSize' | 'searchType'>;

/**
 * The search a Perplexity exchange is priced by, from the request's `web_search_options` and
 * what the answer says: the search context size of the answer's usage, else the one the request
 * asked for; the request's Pro Search type (`search_type`) only for a streamed request, as Pro
 * Search runs on streamed requests alone (one not streamed falls back to standard Sonar Pro, at
 * its fee). The one reading of the request for both paths: the universal proxy's meter and the
 * pricing plugin on `/v1`.
 * @see https://docs.perplexity.ai/docs/sonar/pro-search/quickstart
 */
export function perplexitySearchOf(
  webSearchOptions: unknown,
  answeredContextSize: string | undefined,
  streamed: boolean,
): SearchFields {
  const options = record(webSearchOptions);
  const search: SearchFields = {};
  const contextSize = answeredContextSize ?? str(options['search_context_size']);
  if (contextSize !== undefined) search.searchContextSize = contextSize;
  const searchType = streamed ? str(options['search_type']) : undefined;
  if (searchType !== undefined) search.searchType = searchType;
  return search;
}
