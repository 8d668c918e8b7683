import {
  findProvider,
  type MatchLogic,
  type ModelInfo,
  type ModelPrice as GenaiModelPrice,
  type Provider,
  type TieredPrices,
} from '@pydantic/genai-prices';
import { ownEntry } from '@switchyard/proxy-core';
import type { ModelPrice, PriceRates, PriceTier } from './pricing-model-price';

/** The built-in catalog's name and origin, for docs and the `/admin` surface. */
export const GENAI_PRICES_SOURCE = {
  package: '@pydantic/genai-prices',
  version: '0.1.8',
  url: 'https://github.com/pydantic/genai-prices',
} as const;

/** Gateway provider types whose catalog id differs from the type name. */
const PROVIDER_IDS: Readonly<Record<string, string>> = {
  gemini: 'google',
  'google-vertex': 'google',
  vertex: 'google',
  xai: 'x-ai',
  bedrock: 'aws',
  'azure-openai': 'azure',
  voyage: 'voyageai',
};

const RATE_KEYS: Readonly<Record<string, keyof PriceRates>> = {
  input_mtok: 'inputPerMTok',
  output_mtok: 'outputPerMTok',
  cache_read_mtok: 'cachedInputPerMTok',
  cache_write_mtok: 'cacheWritePerMTok',
  cache_write_1h_mtok: 'cacheWrite1hPerMTok',
  output_reasoning_mtok: 'reasoningPerMTok',
  output_citation_mtok: 'citationPerMTok',
  input_audio_mtok: 'audioInputPerMTok',
  output_audio_mtok: 'audioOutputPerMTok',
  input_image_mtok: 'imageInputPerMTok',
  output_image_mtok: 'imageOutputPerMTok',
};

// catalog counts per thousand; the gateway's rates are per unit
const PER_THOUSAND_KEYS: Readonly<Record<string, keyof PriceRates>> = {
  requests_kcount: 'perRequest',
  web_searches_kcount: 'perWebSearch',
  // OpenAI's file search tool calls
  storage_searches_kcount: 'perFileSearch',
};

/**
 * Catalog rates of tokens usage may hold but the price cannot feed: cached audio and cached
 * images (counted in the cached tokens, which the cache-read rate prices), and video tokens in and
 * out (counted in the input and output, priced as text). A price with one (at a rate other than
 * the one those tokens would fall to) is unknown for usage that may contain those tokens, never
 * priced low. Image and audio tokens are fed (`imageInputPerMTok`, `audioInputPerMTok`, ...) where
 * the provider reports them. Rates of what token usage never holds (Mistral OCR's pages, xAI
 * voice's text messages) are left out: they price nothing a token usage says.
 */
export type UnfedRate =
  'cache_audio_read_mtok' | 'cache_image_read_mtok' | 'input_video_mtok' | 'output_video_mtok';

// the rate each unfed rate's tokens fall to
const UNFED_PLAIN_KEY: Readonly<Record<UnfedRate, string>> = {
  cache_audio_read_mtok: 'cache_read_mtok',
  cache_image_read_mtok: 'cache_read_mtok',
  input_video_mtok: 'input_mtok',
  output_video_mtok: 'output_mtok',
};

function baseRate(value: number | TieredPrices | undefined): number | undefined {
  return value === undefined ? undefined : isTiered(value) ? value.base : value;
}

// the unfed rates a catalog price has, where they differ from the rate usage would fall to
function unfedRates(source: GenaiModelPrice): UnfedRate[] {
  return (Object.keys(UNFED_PLAIN_KEY) as UnfedRate[]).filter((key) => {
    const rate = baseRate(source[key]);
    return rate !== undefined && rate !== baseRate(source[UNFED_PLAIN_KEY[key]]);
  });
}

function matches(logic: MatchLogic, value: string): boolean {
  const lower = value.toLowerCase();
  if ('or' in logic) return logic.or.some((inner) => matches(inner, value));
  if ('and' in logic) return logic.and.every((inner) => matches(inner, value));
  if ('equals' in logic) return lower === logic.equals.toLowerCase();
  if ('starts_with' in logic) return lower.startsWith(logic.starts_with.toLowerCase());
  if ('ends_with' in logic) return lower.endsWith(logic.ends_with.toLowerCase());
  if ('contains' in logic) return lower.includes(logic.contains.toLowerCase());
  return new RegExp(logic.regex).test(value);
}

function isTiered(value: number | TieredPrices): value is TieredPrices {
  return typeof value === 'object';
}

/** Converts the catalog's per-key tiers into whole-request tiers by input tokens. */
function convertPrice(source: GenaiModelPrice): ModelPrice {
  const base: PriceRates = {};
  const tiers = new Map<number, PriceTier>();
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const perThousand = PER_THOUSAND_KEYS[key];
    if (perThousand !== undefined) {
      base[perThousand] = (isTiered(value) ? value.base : value) / 1000;
      continue;
    }
    const field = RATE_KEYS[key];
    if (field === undefined) continue;
    if (!isTiered(value)) {
      base[field] = value;
      continue;
    }
    base[field] = value.base;
    for (const tier of value.tiers) {
      const entry = tiers.get(tier.start) ?? { aboveInputTokens: tier.start };
      entry[field] = tier.price;
      tiers.set(tier.start, entry);
    }
  }
  const price: ModelPrice = { ...base };
  if (tiers.size > 0)
    price.tiers = [...tiers.values()].sort((a, b) => a.aboveInputTokens - b.aboveInputTokens);
  return price;
}

function secondsOfDay(date: Date): number {
  return date.getUTCHours() * 3600 + date.getUTCMinutes() * 60 + date.getUTCSeconds();
}

// the catalog writes UTC clock times as `HH:MM:SSZ` (a trailing zone designator)
function clockSeconds(clock: string): number {
  const match = /^(\d{2}):(\d{2})(?::(\d{2}))?/.exec(clock);
  if (match === null) throw new Error(`unreadable time of day in the price catalog: ${clock}`);
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3] ?? 0);
}

/** The price in force at `at` (the catalog keeps dated and time-of-day prices). */
function priceAt(model: ModelInfo, at: Date): GenaiModelPrice | undefined {
  if (!Array.isArray(model.prices)) return model.prices;
  for (let index = model.prices.length - 1; index >= 0; index -= 1) {
    const entry = model.prices[index];
    if (entry === undefined) continue;
    const constraint = entry.constraint;
    if (constraint === undefined) return entry.prices;
    if (constraint.type === 'start_date') {
      if (at >= new Date(constraint.start_date)) return entry.prices;
      continue;
    }
    const now = secondsOfDay(at);
    const start = clockSeconds(constraint.start_time);
    const end = clockSeconds(constraint.end_time);
    if (end < start ? now >= start || now < end : now >= start && now < end) return entry.prices;
  }
  return model.prices[0]?.prices;
}

/** The catalog's provider id for a gateway provider type (`gemini` -> `google`, `azure-openai` -> `azure`). */
export function catalogProviderId(providerType: string): string {
  // own keys only: a type named `constructor` read Object's, and resolving its prices threw
  return ownEntry(PROVIDER_IDS, providerType) ?? providerType;
}

// the model and the provider whose list holds it: the one asked, or one of its fallbacks
function findModel(
  provider: Provider,
  model: string,
  seen: Set<string>,
): { info: ModelInfo; providerId: string } | undefined {
  seen.add(provider.id);
  const direct = provider.models.find((info) => matches(info.match, model));
  if (direct !== undefined) return { info: direct, providerId: provider.id };
  for (const fallback of provider.fallback_model_providers ?? []) {
    if (seen.has(fallback)) continue;
    const other = findProvider({ providerId: fallback });
    const found = other && findModel(other, model, seen);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** What the catalog knows about one model. */
export interface CatalogEntry {
  /** The catalog's provider id (`openai`, `google`, ...). */
  providerId: string;
  /**
   * The catalog provider whose entry this is: `providerId`, or a provider it falls back to for
   * models it does not list (Azure's OpenAI models are OpenAI's entries, at OpenAI's rates).
   */
  modelProviderId: string;
  /** The catalog's model id the name matched. */
  modelId: string;
  price: ModelPrice;
  /** The model's context window in tokens, when known. */
  contextWindow?: number;
  /** Rates of the price that token usage cannot feed (see {@link UnfedRate}). */
  unfed?: readonly UnfedRate[];
}

/** A model the catalog matched, before picking the price in force at a given time. */
export interface CatalogMatch {
  /** The catalog's provider id (`openai`, `google`, ...). */
  providerId: string;
  /** The catalog provider whose list holds the model: `providerId`, or one of its fallbacks. */
  modelProviderId: string;
  model: ModelInfo;
}

/**
 * Finds a model in the bundled `@pydantic/genai-prices` data (no network). With a
 * provider type the search stays within that provider (and its declared fallbacks);
 * without one, the model name alone decides. The match does not depend on the time, so
 * it can be cached; {@link catalogEntryAt} picks the price in force.
 */
export function matchGenaiModel(providerType: string | undefined, model: string): CatalogMatch | undefined {
  const providerId = providerType === undefined ? undefined : catalogProviderId(providerType);
  const provider = providerId === undefined ? findProvider({ modelId: model }) : findProvider({ providerId });
  if (provider === undefined) return undefined;
  // `org/model` ids: the catalog may list them whole (together) or bare; dated snapshots
  // (claude-x-20250514) also match their dashed form (2025-05-14)
  const bare = model.includes('/') ? model.slice(model.lastIndexOf('/') + 1) : model;
  const dashed = (name: string): string => name.replace(/-(20\d{2})(\d{2})(\d{2})(?=-|$)/, '-$1-$2-$3');
  const candidates = [...new Set([model, bare, dashed(model), dashed(bare)])];
  for (const candidate of candidates) {
    const found = findModel(provider, candidate, new Set());
    if (found !== undefined)
      return { providerId: provider.id, modelProviderId: found.providerId, model: found.info };
  }
  return undefined;
}

/**
 * Rates the bundled catalog lacks for a model it lists, from the provider's own price list, by
 * the catalog's provider and model id. A rate the catalog has wins. Without these, usage that
 * names the tokens is priced at a rate that defaults to another one (audio at the text rate).
 */
const CATALOG_SUPPLEMENTS: Readonly<Record<string, PriceRates>> = {
  // OpenAI's price list: audio tokens of the audio-preview chat models, as gpt-4o-realtime-preview's
  // (the catalog has their text rates only: audio in and out were priced 16 and 8 times low).
  // The first snapshot, gpt-4o-audio-preview-2024-10-01 ($100 / $200), is retired.
  'openai/gpt-4o-audio-preview': { audioInputPerMTok: 40, audioOutputPerMTok: 80 },
  'openai/gpt-4o-mini-audio-preview': { audioInputPerMTok: 10, audioOutputPerMTok: 20 },
};

/**
 * Catalog models that are free of charge by the catalog's notes alone (its `price_comments` or
 * `description`), by the catalog's provider and model id. Their price is empty, as the price of a
 * model the catalog has no rate for is.
 */
const FREE_BY_NOTE: ReadonlySet<string> = new Set([
  // "Free of charge on the Gemini API with no paid tier"
  'google/gemma-4-26b-a4b-it',
  'google/gemma-4-31b-it',
  // "All OpenAI moderation models and endpoints are free of charge"
  'openai/moderation',
  // "Included in the subscription: ... a live request reported a zero token cost"
  'github-copilot/gpt-3.5-turbo',
  'github-copilot/gpt-4.1',
  'github-copilot/gpt-4o',
  'github-copilot/gpt-4o-mini',
]);

/**
 * Whether a catalog price is a free model's. The catalog writes one as an empty price (`{}`,
 * which its own `calcPrice` totals to 0), but so it does a model it lists without rates
 * (`cerebras/qwen-3-coder-480b`, `openrouter/google/lyria-3-pro-preview`), whose cost is
 * unknown. A price with rates is never free here, even if all of them are in units usage cannot
 * feed (`whisper-1`'s audio hours). Free: an empty price whose model the catalog marks free, by
 * OpenRouter's `:free` id suffix, a name ending in `(free)`, or its notes (`FREE_BY_NOTE`).
 */
function isFree(raw: GenaiModelPrice, model: ModelInfo, catalogModel: string): boolean {
  if (Object.values(raw).some((value) => value !== undefined)) return false;
  return (
    model.id.endsWith(':free') || /\(free\)\s*$/i.test(model.name ?? '') || FREE_BY_NOTE.has(catalogModel)
  );
}

interface ConvertedPrice {
  price: ModelPrice;
  unfed: UnfedRate[];
}

// the catalog's price objects are fixed for the process; converting each once keeps the
// per-request pick (time of day, dated prices) to a lookup
const converted = new WeakMap<GenaiModelPrice, ConvertedPrice>();

function convertedPrice(raw: GenaiModelPrice, model: ModelInfo, catalogModel: string): ConvertedPrice {
  let found = converted.get(raw);
  if (found === undefined) {
    // a free model's other token rates (cached, reasoning, audio, image) fall back to these two;
    // 1h cache writes, which have no fallback, are free too
    const price = isFree(raw, model, catalogModel)
      ? { inputPerMTok: 0, outputPerMTok: 0, cacheWrite1hPerMTok: 0 }
      : convertPrice(raw);
    const supplement = CATALOG_SUPPLEMENTS[catalogModel];
    found = { price: supplement === undefined ? price : { ...supplement, ...price }, unfed: unfedRates(raw) };
    converted.set(raw, found);
  }
  return found;
}

/** The catalog entry of a matched model with the price in force at `at`. */
export function catalogEntryAt(match: CatalogMatch, at: Date): CatalogEntry | undefined {
  const raw = priceAt(match.model, at);
  if (raw === undefined) return undefined;
  const { price, unfed } = convertedPrice(raw, match.model, `${match.modelProviderId}/${match.model.id}`);
  const entry: CatalogEntry = {
    providerId: match.providerId,
    modelProviderId: match.modelProviderId,
    modelId: match.model.id,
    price,
  };
  if (unfed.length > 0) entry.unfed = unfed;
  if (match.model.context_window !== undefined) entry.contextWindow = match.model.context_window;
  return entry;
}

/**
 * Looks a model up in the bundled `@pydantic/genai-prices` data (no network), with the
 * price in force at `at` (see {@link matchGenaiModel}).
 */
export function lookupGenaiPrice(
  providerType: string | undefined,
  model: string,
  at: Date,
): CatalogEntry | undefined {
  const match = matchGenaiModel(providerType, model);
  return match === undefined ? undefined : catalogEntryAt(match, at);
}
