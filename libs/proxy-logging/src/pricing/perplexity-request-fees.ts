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

/** The request fee of a catalog model at a search context size, or undefined when it has none. */
export function perplexityRequestFeeUsd(catalogModel: string, searchContextSize: string): number | undefined {
  return PERPLEXITY_REQUEST_FEES_USD[catalogModel]?.[searchContextSize];
}
