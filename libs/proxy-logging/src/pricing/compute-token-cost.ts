import type { TokenUsage } from '../usage/token-usage';
import { ratesForInput, type ModelPrice, type PriceRates } from './pricing-model-price';

/** The cost of one exchange, split by component, in USD. */
export interface CostBreakdown {
  totalUsd: number;
  inputUsd: number;
  cachedInputUsd: number;
  cacheWriteUsd: number;
  outputUsd: number;
  reasoningUsd: number;
  /** Citation tokens (Perplexity deep research), apart from input and output. */
  citationUsd: number;
  audioUsd: number;
  /** Image tokens in and out, and images priced per image. */
  imagesUsd: number;
  webSearchUsd: number;
  /** File search tool calls (OpenAI's Responses API). */
  fileSearchUsd: number;
  requestUsd: number;
  /**
   * Web searches left out of the cost: neither the price nor the provider's default has a
   * search rate. The tokens are still priced; the caller counts these as an unknown price.
   */
  unpricedWebSearches?: number;
  /**
   * Why those searches have no rate, where the registry knows it: `azure_bing_grounding_unpriced`
   * (Azure OpenAI bills its web search tool as Grounding with Bing Search, with no per-search
   * rate in its published pages; configure the model's `perWebSearch` to price them).
   */
  unpricedWebSearchesReason?: string;
}

/** Rates that apply where a price has none of its own. */
export interface TokenCostDefaults {
  /** USD per web search, the provider's documented rate (the catalog has none for some models). */
  perWebSearch?: number;
}

/** Rounds to 1e-10 USD, removing float noise (0.1 + 0.2) without losing any precision that matters. */
export function roundUsd(value: number): number {
  return Math.round(value * 1e10) / 1e10;
}

function hasDistinct1hRate(rates: PriceRates): boolean {
  return (
    rates.cacheWrite1hPerMTok !== undefined &&
    rates.cacheWrite1hPerMTok !== (rates.cacheWritePerMTok ?? rates.inputPerMTok)
  );
}

// a rate that differs from the one its tokens fall back to: usage must then say how many there were
function distinct(rate: number | undefined, fallback: number | undefined): boolean {
  return rate !== undefined && rate !== fallback;
}

/**
 * Prices token usage. Returns `undefined` when a non-zero component has no rate (the price
 * is incomplete for this usage): the caller reports that as an unknown cost, never zero.
 * Web searches without a rate are the exception: a known token cost is kept, and the searches
 * are returned as `unpricedWebSearches`.
 */
export function computeTokenCost(
  price: ModelPrice,
  usage: TokenUsage,
  defaults: TokenCostDefaults = {},
): CostBreakdown | undefined {
  // a total the usage leaves out is 0 (a caller's usage may lack one): never NaN
  const inputTokens = usage.inputTokens ?? 0;
  const outputTokens = usage.outputTokens ?? 0;
  // runs per request: a price without tiers is its own rates (no copy)
  const rates: PriceRates =
    price.tiers === undefined || price.tiers.length === 0 ? price : ratesForInput(price, inputTokens);
  const cached = usage.cachedInputTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const cacheWrite1h = Math.min(cacheWrite, usage.cacheWrite1hTokens ?? 0);
  const reasoning = usage.reasoningTokens ?? 0;
  // apart from input and output (Perplexity counts them in neither): added, not split out of one
  const citations = usage.citationTokens ?? 0;
  const audioOut = usage.audioOutputTokens ?? 0;
  const imageOut = usage.imageOutputTokens ?? 0;
  // audio and image counts include cached tokens, which the cache rate prices: only their
  // uncached share is priced at the audio or image rate. Without the cached split, the cache is
  // taken to hold as much of them as it can, which is exact when their rate is the input rate
  // (and the cost is unknown below when it is not)
  const cachedAudio = Math.min(usage.audioInputTokens ?? 0, usage.cachedAudioInputTokens ?? cached);
  const audioIn = (usage.audioInputTokens ?? 0) - cachedAudio;
  const cachedImage = Math.min(
    usage.imageInputTokens ?? 0,
    usage.cachedImageInputTokens ?? Math.max(0, cached - cachedAudio),
  );
  const imageIn = (usage.imageInputTokens ?? 0) - cachedImage;
  const plainIn = Math.max(0, inputTokens - cached - cacheWrite - audioIn - imageIn);
  const plainOut = Math.max(0, outputTokens - reasoning - audioOut - imageOut);
  let complete = true;
  // image tokens billed at their own rate: without the split, or with cached image tokens (or
  // cached tokens that may be image ones) whose cache rate is not known, the cost is a guess
  if (distinct(rates.imageInputPerMTok, rates.inputPerMTok)) {
    if (inputTokens > 0 && usage.imageInputTokens === undefined) complete = false;
    if (cachedImage > 0) complete = false;
  }
  if (
    distinct(rates.audioInputPerMTok, rates.inputPerMTok) &&
    cachedAudio > 0 &&
    usage.cachedAudioInputTokens === undefined
  )
    complete = false;
  if (
    distinct(rates.imageOutputPerMTok, rates.outputPerMTok) &&
    outputTokens > 0 &&
    usage.imageOutputTokens === undefined
  )
    complete = false;
  // per-million rates times tokens give micro-dollars; one division at the end
  const micro = (tokens: number, rate: number | undefined, fallback?: number): number => {
    if (tokens === 0) return 0;
    const found = rate ?? fallback;
    if (found === undefined) {
      complete = false;
      return 0;
    }
    return tokens * found;
  };
  const unit = (count: number | undefined, perUnit: number | undefined): number => {
    if (!count) return 0;
    if (perUnit === undefined) {
      complete = false;
      return 0;
    }
    return count * perUnit;
  };
  const inputUsd = micro(plainIn, rates.inputPerMTok) / 1e6;
  const cachedInputUsd = micro(cached, rates.cachedInputPerMTok, rates.inputPerMTok) / 1e6;
  // 1h writes cost more than 5-minute ones; a split the usage does not give cannot be guessed,
  // nor can the rate of 1h writes a price does not have (no fallback: the 5-minute rate is low)
  if (cacheWrite > 0 && usage.cacheWrite1hTokens === undefined && hasDistinct1hRate(rates)) complete = false;
  const cacheWriteUsd =
    (micro(cacheWrite - cacheWrite1h, rates.cacheWritePerMTok, rates.inputPerMTok) +
      micro(cacheWrite1h, rates.cacheWrite1hPerMTok)) /
    1e6;
  const outputUsd = micro(plainOut, rates.outputPerMTok) / 1e6;
  const reasoningUsd = micro(reasoning, rates.reasoningPerMTok, rates.outputPerMTok) / 1e6;
  // no fallback: no other rate is theirs. Without a rate they are not billed: Perplexity bills
  // them on deep research only (since April 2025), whose missing rate the registry catches
  const citationUsd = rates.citationPerMTok === undefined ? 0 : (citations * rates.citationPerMTok) / 1e6;
  const audioUsd =
    (micro(audioIn, rates.audioInputPerMTok, rates.inputPerMTok) +
      micro(audioOut, rates.audioOutputPerMTok, rates.outputPerMTok)) /
      1e6 +
    unit(usage.audioSeconds, rates.perAudioSecond);
  const imagesUsd =
    (micro(imageIn, rates.imageInputPerMTok, rates.inputPerMTok) +
      micro(imageOut, rates.imageOutputPerMTok, rates.outputPerMTok)) /
      1e6 +
    unit(usage.images, rates.perImage);
  const searchRate = rates.perWebSearch ?? defaults.perWebSearch;
  const unpricedWebSearches = searchRate === undefined ? (usage.webSearches ?? 0) : 0;
  const webSearchUsd = searchRate === undefined ? 0 : unit(usage.webSearches, searchRate);
  const fileSearchUsd = unit(usage.fileSearches, rates.perFileSearch);
  const requestUsd = rates.perRequest ?? 0;
  if (!complete) return undefined;
  // summed in this order, from zero, then each part rounded on its own
  const totalUsd = roundUsd(
    0 +
      inputUsd +
      cachedInputUsd +
      cacheWriteUsd +
      outputUsd +
      reasoningUsd +
      citationUsd +
      audioUsd +
      imagesUsd +
      webSearchUsd +
      fileSearchUsd +
      requestUsd,
  );
  const breakdown: CostBreakdown = {
    totalUsd,
    inputUsd: roundUsd(inputUsd),
    cachedInputUsd: roundUsd(cachedInputUsd),
    cacheWriteUsd: roundUsd(cacheWriteUsd),
    outputUsd: roundUsd(outputUsd),
    reasoningUsd: roundUsd(reasoningUsd),
    citationUsd: roundUsd(citationUsd),
    audioUsd: roundUsd(audioUsd),
    imagesUsd: roundUsd(imagesUsd),
    webSearchUsd: roundUsd(webSearchUsd),
    fileSearchUsd: roundUsd(fileSearchUsd),
    requestUsd: roundUsd(requestUsd),
  };
  if (unpricedWebSearches > 0) breakdown.unpricedWebSearches = unpricedWebSearches;
  return breakdown;
}
