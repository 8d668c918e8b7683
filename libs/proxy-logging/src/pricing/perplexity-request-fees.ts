import { ownEntry } from '@switchyard/proxy-core';

/**
 * Perplexity's request fee by search context size, in USD per request, for the catalog's
 * models that bill one (https://docs.perplexity.ai/getting-started/pricing, per 1000 requests:
 * Sonar and Sonar Reasoning $5 / $8 / $12, Sonar Pro and Sonar Reasoning Pro $6 / $10 / $14).
 * The catalog carries the `high` fee alone, an upper bound where the size is not known.
 */
export const PERPLEXITY_REQUEST_FEES_USD: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  sonar: { low: 0.005, medium: 0.008, high: 0.012 },
  'sonar-reasoning': { low: 0.005, medium: 0.008, high: 0.012 },
  'sonar-pro': { low: 0.006, medium: 0.01, high: 0.014 },
  'sonar-reasoning-pro': { low: 0.006, medium: 0.01, high: 0.014 },
};

/**
 * The request fee of Pro Search (`web_search_options.search_type` `pro`, or `auto` when its
 * classifier picks Pro Search), which only Sonar Pro runs, in place of the fee above: per 1000
 * requests $14 / $18 / $22 by search context size (https://docs.perplexity.ai/getting-started/pricing,
 * https://docs.perplexity.ai/docs/sonar/pro-search/quickstart).
 */
export const PERPLEXITY_PRO_SEARCH_FEES_USD: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'sonar-pro': { low: 0.014, medium: 0.018, high: 0.022 },
};

/** What the request fee depends on, as `TokenUsage` carries it. */
export interface PerplexitySearch {
  searchContextSize?: string;
  searchType?: string;
}

/**
 * The request fee of a catalog model for a search, or undefined when the catalog's own (the
 * `high` standard fee) stands: the model has no fee by size, or the size is not known.
 * Pro Search (`pro`, and `auto`, whose choice the answer does not report) is priced at its own
 * fee, the `high` one where the size is not known (an upper bound).
 */
export function perplexityRequestFeeUsd(catalogModel: string, search: PerplexitySearch): number | undefined {
  const { searchContextSize: size, searchType } = search;
  const proFees =
    searchType === 'pro' || searchType === 'auto'
      ? ownEntry(PERPLEXITY_PRO_SEARCH_FEES_USD, catalogModel)
      : undefined;
  if (size === undefined) return proFees?.['high'];
  // own entries only: the size comes from the client's request or the upstream's answer, and a
  // plain object also answers `constructor`, `toString` or `__proto__` (priced as NaN)
  if (proFees !== undefined) return ownEntry(proFees, size) ?? proFees['high'];
  return ownEntry(ownEntry(PERPLEXITY_REQUEST_FEES_USD, catalogModel), size);
}
