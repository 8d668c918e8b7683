import { SwitchyardError, ownEntry, schemaProblems } from '@switchyard/proxy-core';
import { LRUCache } from 'lru-cache';
import type { MeteredUsage } from '../usage/metered-usage';
import type { TokenUsage } from '../usage/token-usage';
import { BUILTIN_UNIT_PRICES } from './builtin-unit-prices';
import { computeTokenCost, roundUsd, type CostBreakdown } from './compute-token-cost';
import { geminiGroundingFee } from './gemini-grounding-fees';
import {
  catalogEntryAt,
  catalogProviderId,
  matchGenaiModel,
  type CatalogMatch,
  type UnfedRate,
} from './genai-prices-catalog';
import { perplexityRequestFeeUsd } from './perplexity-request-fees';
import { ratesForInput, type ModelPrice, type PriceRates } from './pricing-model-price';
import {
  PRICING_DEFAULTS,
  PricingConfigSchema,
  type PricingOptions,
  type UnitPrice,
} from './pricing-options';
import { unbilledAlternativeUnits } from './unbilled-alternative-units';

/** A model at a provider, as the pricing registry looks it up. */
export interface PriceTarget {
  /** The provider instance name (`openai`, `azure-eu`, ...). */
  provider: string;
  /** The provider type (`openai`, `anthropic`, `gemini`, ...), when it differs from the name. */
  providerType?: string;
  /** The upstream model id. */
  model: string;
}

/** A price and where it came from. */
export interface ResolvedPrice {
  price: ModelPrice;
  /** `config` for configured prices, `genai-prices` for the bundled catalog. */
  source: 'config' | 'genai-prices';
  /** The catalog's model id (or the configured key). */
  id: string;
  /**
   * For a configured price, the model its key names (`gpt-4o` for `openai/gpt-4o` or `gpt-4o`):
   * the model as asked, or the alias whose price a dated snapshot takes (`gpt-4o` for
   * `gpt-4o-2024-08-06`). A name from configuration, never a client's: a metrics label may be it.
   */
  model?: string;
  /** The context window in tokens, when known. */
  contextWindow?: number;
  /** Catalog rates that token usage cannot feed (cached audio and images, video tokens). */
  unfed?: readonly UnfedRate[];
  /**
   * For a catalog price the provider does not list itself, the catalog provider whose entry it
   * is (Azure's OpenAI models are OpenAI's entries): its rates are that provider's list prices.
   */
  fallbackProviderId?: string;
}

/** Counts by key, read-only (a bounded cache under the hood, not a `Map`). */
export interface CountsByKey {
  get(key: string): number | undefined;
  has(key: string): boolean;
  readonly size: number;
  /** The keys and counts, most recently counted first. */
  entries(): Iterable<[string, number]>;
}

/** Counters of pricing failures; every failure mode has one. */
export interface PricingCounters {
  /**
   * Exchanges whose cost is unknown (no price for the model or a unit), or left out a part it
   * has no rate for (web searches, keyed `<provider>/<model>:web_searches`).
   */
  unknownPrice: number;
  /**
   * The same, by `<provider>/<model>` (or `<provider>/<unit>`), for the 1000 keys seen
   * last: model names come from clients, so the keys are unbounded.
   */
  unknownPriceByKey: CountsByKey;
}

/** A model id's snapshot date (`-2024-08-06`, `-20250929`), the alias before it in group 1. */
const SNAPSHOT_SUFFIX = /^(.+)-(?:\d{4}-\d{2}-\d{2}|20\d{6})$/;

/** Prices of models and units, with configured prices first and the catalog second. */
export interface PricingRegistry {
  /** The price of a model, or undefined when unknown. */
  resolve(target: PriceTarget): ResolvedPrice | undefined;
  /** The cost of token usage, split by component; undefined when unknown (and counted). */
  tokenCost(target: PriceTarget, usage: TokenUsage): CostBreakdown | undefined;
  /** The cost of a metered exchange in USD; null when unknown (and counted). */
  meteredCostUsd(usage: MeteredUsage): number | null;
  /**
   * The non-token prices of a provider (and model, and the model's variant: see
   * `MeteredUsage.priceVariant`), merged from config and built-ins; the more specific key wins,
   * and a configured model price wins over a built-in variant one.
   */
  unitPrice(provider: string, model?: string, variant?: string): UnitPrice | undefined;
  readonly counters: PricingCounters;
  /** The validated, frozen options. */
  readonly options: Readonly<PricingOptions>;
}

// what a model resolves to, apart from the time: a configured price, or the catalog's model
// whose price is picked for the current time on each call (time-of-day and dated prices)
type ModelMatch = { resolved: ResolvedPrice } | { catalog: CatalogMatch } | null;

// how many keys `counters.unknownPriceByKey` keeps, the least recently seen going first
const UNKNOWN_PRICE_KEYS_KEPT = 1000;

// the web search rates the providers document for every model with the search tool, where the
// catalog's model has none (o3-deep-research, o3-pro, codex-mini, claude-3-haiku, ...): $10 per
// 1000 searches (https://platform.openai.com/docs/pricing, https://docs.anthropic.com/en/docs/about-claude/pricing)
const PROVIDER_WEB_SEARCH_USD: Readonly<Record<string, number>> = { openai: 0.01, anthropic: 0.01 };

// whether usage may hold the tokens of an unfed rate: cached audio and cached images are priced
// as cached text (without the cached split, the cache may hold as many of them as it can), video
// tokens as text
const MAY_USE_UNFED: Readonly<Record<UnfedRate, (usage: TokenUsage) => boolean>> = {
  cache_audio_read_mtok: (usage) =>
    (usage.cachedInputTokens ?? 0) > 0 &&
    (usage.cachedAudioInputTokens ?? Math.min(usage.audioInputTokens ?? 0, usage.cachedInputTokens ?? 0)) > 0,
  cache_image_read_mtok: (usage) =>
    (usage.cachedInputTokens ?? 0) > 0 &&
    (usage.cachedImageInputTokens ?? Math.min(usage.imageInputTokens ?? 0, usage.cachedInputTokens ?? 0)) > 0,
  input_video_mtok: (usage) => (usage.videoInputTokens ?? 0) > 0,
  output_video_mtok: (usage) => (usage.videoOutputTokens ?? 0) > 0,
};

// whether usage may hold tokens the price charges at a rate it cannot be fed
function mayUseUnfed(unfed: readonly UnfedRate[] | undefined, usage: TokenUsage): boolean {
  return unfed !== undefined && unfed.some((rate) => MAY_USE_UNFED[rate](usage));
}

// the token rates of a price, which a multiplier scales (not the fees per search, image, second
// or request)
const TOKEN_RATES = [
  'inputPerMTok',
  'outputPerMTok',
  'cachedInputPerMTok',
  'cacheWritePerMTok',
  'cacheWrite1hPerMTok',
  'reasoningPerMTok',
  'citationPerMTok',
  'audioInputPerMTok',
  'audioOutputPerMTok',
  'imageInputPerMTok',
  'imageOutputPerMTok',
] as const satisfies readonly (keyof PriceRates)[];

function scaledRates<T extends PriceRates>(rates: T, factor: number): T {
  const scaled: T = { ...rates };
  for (const key of TOKEN_RATES) {
    const rate = rates[key];
    if (rate !== undefined) scaled[key] = rate * factor;
  }
  return scaled;
}

// Anthropic bills US-only inference (`inference_geo: "us"`) at 1.1 times every token rate: input,
// output, cache writes and reads (https://platform.claude.com/docs/en/about-claude/pricing#data-residency-pricing).
// Its API only: on Bedrock and Vertex AI the region is the endpoint's, with prices of its own
const US_ONLY_INFERENCE_FACTOR = 1.1;

// the US-only prices of the prices seen: a price is fixed once resolved (catalog, configured)
const usOnlyPrices = new WeakMap<ModelPrice, ModelPrice>();

/** The price of usage by where its inference ran: Anthropic's US-only inference costs 1.1x. */
function priceOfGeo(type: string, price: ModelPrice, geo: string | undefined): ModelPrice {
  if (geo !== 'us' || catalogProviderId(type) !== 'anthropic') return price;
  let found = usOnlyPrices.get(price);
  if (found === undefined) {
    found = scaledRates(price, US_ONLY_INFERENCE_FACTOR);
    if (price.tiers !== undefined)
      found.tiers = price.tiers.map((tier) => scaledRates(tier, US_ONLY_INFERENCE_FACTOR));
    usOnlyPrices.set(price, found);
  }
  return found;
}

// the names a service tier at the standard rates goes by: OpenAI's `default` (and `auto`, which an
// answer should not name), Anthropic's `standard`, Groq's `on_demand`
const STANDARD_SERVICE_TIERS: ReadonlySet<string> = new Set(['default', 'auto', 'standard', 'on_demand']);

// other service tiers a provider type bills at its standard rates: Groq's flex ("Pricing matches
// the on-demand tier", https://console.groq.com/docs/flex-processing)
const STANDARD_RATE_TIERS: Readonly<Record<string, readonly string[]>> = { groq: ['flex'] };

/**
 * The price of usage served on its service tier: the price's own for the tier, else the price
 * itself on a tier at the standard rates; undefined on another (OpenAI's priority costs about
 * 1.75x, flex half: standard rates would be wrong either way, so the cost is unknown).
 */
function priceOfTier(type: string, price: ModelPrice, tier: string | undefined): ModelPrice | undefined {
  if (tier === undefined) return price;
  const own = ownEntry(price.serviceTiers, tier);
  if (own !== undefined) return own;
  if (STANDARD_SERVICE_TIERS.has(tier) || ownEntry(STANDARD_RATE_TIERS, type)?.includes(tier) === true)
    return price;
  return undefined;
}

// Perplexity bills citation tokens on deep research only (Sonar and Sonar Pro answers still
// report them, unbilled since April 2025): a deep-research price without a citation rate would
// price such usage low, so its cost is unknown, counted by that reason
const BILLS_CITATIONS = /deep-research/;

function lacksCitationRate(price: ModelPrice, usage: TokenUsage, model: string): boolean {
  return (
    (usage.citationTokens ?? 0) > 0 &&
    BILLS_CITATIONS.test(model) &&
    ratesForInput(price, usage.inputTokens).citationPerMTok === undefined
  );
}

/**
 * Why a price leaves usage unknown, where a rate it lacks has no fallback and the fix is to
 * configure it: 1h cache writes (`cacheWrite1hPerMTok`; the catalog has none for Claude on
 * Bedrock), file searches (`perFileSearch`). Empty for any other cause.
 */
function missingRateReason(price: ModelPrice, usage: TokenUsage): string {
  const rates = ratesForInput(price, usage.inputTokens ?? 0);
  if (
    Math.min(usage.cacheWriteTokens ?? 0, usage.cacheWrite1hTokens ?? 0) > 0 &&
    rates.cacheWrite1hPerMTok === undefined
  )
    return ':cache_write_1h';
  if ((usage.fileSearches ?? 0) > 0 && rates.perFileSearch === undefined) return ':file_searches';
  return '';
}

// catalog providers (by `catalogProviderId` of the provider type) whose web searches have no
// rate the gateway can apply unless the catalog sets one for the provider itself, and why.
// Azure OpenAI's web search tool is billed as Grounding with Bing Search, a service of its own
// with no per-search figure in Azure's published pages. Claude's web search tool on Vertex AI
// (a Preview run on a third-party search provider) is billed by Google, whose page for it gives
// no per-search figure (https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/web-search).
// The catalog prices the models these providers do not list through another provider's entries
// (OpenAI's for Azure, Anthropic's for Google), whose search rate is that provider's own tool
// fee: it is not used
const UNPRICED_WEB_SEARCH_REASONS: Readonly<Record<string, string>> = {
  azure: 'azure_bing_grounding_unpriced',
  google: 'vertex_claude_web_search_unpriced',
};

/**
 * Why a provider type's web searches go unpriced without a rate of its own (see above), if they
 * do. By catalog provider, but for the Gemini API, which the catalog also files under Google
 * and which does not run Claude: the Vertex AI reason is not its.
 */
function unpricedWebSearchReason(type: string): string | undefined {
  return type === 'gemini' ? undefined : ownEntry(UNPRICED_WEB_SEARCH_REASONS, catalogProviderId(type));
}

// the catalog's Perplexity request fee is the standard `high` one; where the usage says the
// search context size, or that Pro Search ran, its own fee applies (a configured price is the
// user's, and stands). Azure and Google models drop the search rate of another provider's entry
function priceFor(type: string, resolved: ResolvedPrice, usage: TokenUsage): ModelPrice {
  if (resolved.source !== 'genai-prices') return resolved.price;
  if (type === 'perplexity') {
    if (usage.searchContextSize === undefined && usage.searchType === undefined) return resolved.price;
    const fee = perplexityRequestFeeUsd(resolved.id, usage);
    return fee === undefined ? resolved.price : { ...resolved.price, perRequest: fee };
  }
  if (
    resolved.fallbackProviderId !== undefined &&
    resolved.price.perWebSearch !== undefined &&
    unpricedWebSearchReason(type) !== undefined
  ) {
    const price: ModelPrice = { ...resolved.price };
    delete price.perWebSearch;
    return price;
  }
  return resolved.price;
}

class DefaultPricingRegistry implements PricingRegistry {
  // clients choose model names, so keys without a price are unbounded: keep the recent ones
  readonly #unknownByKey = new LRUCache<string, number>({ max: UNKNOWN_PRICE_KEYS_KEPT });
  readonly counters: PricingCounters = { unknownPrice: 0, unknownPriceByKey: this.#unknownByKey };
  readonly options: Readonly<PricingOptions>;
  // provider -> provider type -> model: every request resolves its price, and a key made by
  // joining the three would be a new string to flatten and hash each time
  readonly #cache = new Map<string, Map<string, Map<string, ModelMatch>>>();
  #cached = 0;
  readonly #now: () => Date;

  constructor(options: PricingOptions) {
    this.options = options;
    this.#now = options.now ?? (() => new Date());
  }

  resolve(target: PriceTarget): ResolvedPrice | undefined {
    const match = this.#match(target);
    if (match === null) return undefined;
    if ('resolved' in match) return match.resolved;
    const entry = catalogEntryAt(match.catalog, this.#now());
    if (entry === undefined) return undefined;
    const resolved: ResolvedPrice = { price: entry.price, source: 'genai-prices', id: entry.modelId };
    if (entry.contextWindow !== undefined) resolved.contextWindow = entry.contextWindow;
    if (entry.unfed !== undefined) resolved.unfed = entry.unfed;
    if (entry.modelProviderId !== entry.providerId) resolved.fallbackProviderId = entry.modelProviderId;
    return resolved;
  }

  // matching a name against the catalog is the slow part, and does not depend on the time
  #match(target: PriceTarget): ModelMatch {
    const type = target.providerType ?? target.provider;
    const cached = this.#cache.get(target.provider)?.get(type)?.get(target.model);
    if (cached !== undefined) return cached;
    const found = this.#lookup(target, type);
    // a bounded cache keeps lookups off the hot path without growing with every model name seen
    if (this.#cached > 10_000) {
      this.#cache.clear();
      this.#cached = 0;
    }
    let byType = this.#cache.get(target.provider);
    if (byType === undefined)
      this.#cache.set(target.provider, (byType = new Map<string, Map<string, ModelMatch>>()));
    let byModel = byType.get(type);
    if (byModel === undefined) byType.set(type, (byModel = new Map<string, ModelMatch>()));
    byModel.set(target.model, found);
    this.#cached += 1;
    return found;
  }

  #lookup(target: PriceTarget, type: string): ModelMatch {
    const models = this.options.models;
    // a dated snapshot (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`, what an answer names
    // for the alias the client sent) takes a price configured for its alias, after its own
    const alias = SNAPSHOT_SUFFIX.exec(target.model)?.[1];
    for (const model of alias === undefined ? [target.model] : [target.model, alias]) {
      for (const id of [`${target.provider}/${model}`, `${type}/${model}`, model]) {
        const price = ownEntry(models, id);
        if (price !== undefined) return { resolved: { price, source: 'config', id, model } };
      }
    }
    if ((this.options.catalog ?? PRICING_DEFAULTS.catalog) === 'none') return null;
    const catalog = matchGenaiModel(type, target.model);
    return catalog === undefined ? null : { catalog };
  }

  tokenCost(target: PriceTarget, usage: TokenUsage): CostBreakdown | undefined {
    const resolved = this.resolve(target);
    const type = target.providerType ?? target.provider;
    // Gemini's grounding with Google Search: Gemini 3 bills each search query, earlier models
    // each grounded prompt once, whatever the rate's source (see gemini-grounding-fees)
    const grounding = type === 'gemini' && usage.webSearches ? geminiGroundingFee(target.model) : undefined;
    const defaults = { perWebSearch: grounding?.perWebSearch ?? ownEntry(PROVIDER_WEB_SEARCH_USD, type) };
    const billed = grounding?.perPrompt === true ? { ...usage, webSearches: 1 } : usage;
    const listed = resolved === undefined ? undefined : priceFor(type, resolved, billed);
    const tiered = listed === undefined ? undefined : priceOfTier(type, listed, usage.serviceTier);
    const price = tiered === undefined ? undefined : priceOfGeo(type, tiered, usage.inferenceGeo);
    // a tier with no price of its own is counted by that reason (the tier named, bounded in length)
    const untiered = listed !== undefined && price === undefined;
    const uncited = price !== undefined && lacksCitationRate(price, billed, target.model);
    const cost =
      price === undefined || uncited || mayUseUnfed(resolved?.unfed, billed)
        ? undefined
        : computeTokenCost(price, billed, defaults);
    if (cost === undefined) {
      const reason = uncited
        ? ':citation_tokens'
        : untiered
          ? `:service_tier_${(usage.serviceTier ?? '').slice(0, 32)}`
          : price === undefined
            ? ''
            : missingRateReason(price, billed);
      this.#unknown(`${target.provider}/${target.model}${reason}`);
    } else if (cost.unpricedWebSearches !== undefined) {
      // searches without a rate leave the known token cost standing, counted apart
      const reason = unpricedWebSearchReason(type);
      if (reason !== undefined) cost.unpricedWebSearchesReason = reason;
      this.#unknown(`${target.provider}/${target.model}:web_searches`);
    }
    return cost;
  }

  unitPrice(provider: string, model?: string, variant?: string): UnitPrice | undefined {
    const configured = this.options.units;
    const layers = [ownEntry(BUILTIN_UNIT_PRICES, provider), ownEntry(configured, provider)];
    if (model !== undefined) {
      const variantKey = variant === undefined ? undefined : `${provider}/${model}@${variant}`;
      // a flat price configured for the model is the user's own, over the list prices by variant
      layers.push(ownEntry(BUILTIN_UNIT_PRICES, `${provider}/${model}`));
      if (variantKey !== undefined) layers.push(ownEntry(BUILTIN_UNIT_PRICES, variantKey));
      layers.push(ownEntry(configured, `${provider}/${model}`));
      if (variantKey !== undefined) layers.push(ownEntry(configured, variantKey));
    }
    let merged: UnitPrice | undefined;
    for (const layer of layers) {
      if (layer === undefined) continue;
      merged = {
        perUnit: { ...merged?.perUnit, ...layer.perUnit },
        ...((layer.paymentFee ?? merged?.paymentFee)
          ? { paymentFee: layer.paymentFee ?? merged?.paymentFee }
          : {}),
      };
    }
    return merged;
  }

  meteredCostUsd(usage: MeteredUsage): number | null {
    // a read of something billed before: nothing to pay for this exchange
    if (usage.alreadyBilled !== undefined) return 0;
    if (usage.reportedCostUsd !== undefined) return roundUsd(usage.reportedCostUsd);
    let total = 0;
    if (usage.tokens !== undefined) {
      if (usage.model === undefined) return this.#unknown(`${usage.provider}/(no model)`);
      const target = { provider: usage.provider, model: usage.model };
      // the meter knows why no price is listed for the model's tokens (a Vertex AI text embedding
      // model is billed by character): the unknown is counted with that reason
      if (usage.unpricedReason !== undefined && this.resolve(target) === undefined)
        return this.#unknown(`${usage.provider}/${usage.model}:${usage.unpricedReason}`);
      const cost = this.tokenCost(target, usage.tokens);
      if (cost === undefined) return null;
      total += cost.totalUsd;
    }
    const billable = Object.entries(usage.units).filter(([, count]) => count > 0);
    if (billable.length > 0 || usage.payment !== undefined) {
      const prices = this.unitPrice(usage.provider, usage.model, usage.priceVariant);
      // units counting the same use another way (credits, characters) are billed once
      const unbilled = unbilledAlternativeUnits(usage, prices?.perUnit);
      for (const [unit, count] of billable) {
        if (unbilled.has(unit)) continue;
        const rate = ownEntry(prices?.perUnit, unit);
        if (rate === undefined)
          return this.#unknown(`${usage.provider}/${usage.model ?? unit}:${usage.unpricedReason ?? unit}`);
        total += count * rate;
      }
      if (usage.payment !== undefined) {
        const fee = prices?.paymentFee;
        if (fee === undefined || usage.payment.currency !== 'usd')
          return this.#unknown(`${usage.provider}/payment:${usage.payment.currency}`);
        total +=
          (usage.payment.amount * fee.percent) / 100 + usage.payment.transactions * (fee.fixedUsd ?? 0);
      }
    }
    if (usage.tokens === undefined && billable.length === 0 && usage.payment === undefined)
      return this.#zeroUnitsCost(usage);
    return roundUsd(total);
  }

  /**
   * The cost of an exchange that reports counts of nothing but zero (a vector delete's
   * `read_units: 0`, a batch that wrote no object): 0 when one of those units has a price, as
   * 0 times a known rate is; unknown (and counted) when none has. An exchange that reports no
   * count at all stays unknown: nothing says what it used.
   */
  #zeroUnitsCost(usage: MeteredUsage): 0 | null {
    const units = Object.keys(usage.units).filter((unit) => usage.units[unit] === 0);
    const [first] = units;
    if (first === undefined) return null;
    const rates = this.unitPrice(usage.provider, usage.model, usage.priceVariant)?.perUnit;
    if (units.some((unit) => ownEntry(rates, unit) !== undefined)) return 0;
    return this.#unknown(`${usage.provider}/${usage.model ?? first}:${usage.unpricedReason ?? first}`);
  }

  #unknown(key: string): null {
    this.counters.unknownPrice += 1;
    const seen = this.#unknownByKey.get(key) ?? 0;
    this.#unknownByKey.set(key, seen + 1);
    if (seen === 0) this.options.onUnknownPrice?.(key);
    return null;
  }
}

/** Every problem of pricing options, each starting with its option's path (`pricing/models/...: ...`). */
export function pricingOptionsProblems(options: PricingOptions): string[] {
  const { now, onUnknownPrice, ...config } = options;
  const problems = schemaProblems(PricingConfigSchema, config, 'pricing');
  if (now !== undefined && typeof now !== 'function') problems.push('pricing/now: must be a function');
  if (onUnknownPrice !== undefined && typeof onUnknownPrice !== 'function')
    problems.push('pricing/onUnknownPrice: must be a function');
  return problems;
}

/** Checks pricing options once, reporting every problem in one `invalid_options` error. */
export function validatePricingOptions(options: PricingOptions): Readonly<PricingOptions> {
  const problems = pricingOptionsProblems(options);
  if (problems.length > 0)
    throw new SwitchyardError('invalid_options', `Invalid pricing options:\n${problems.join('\n')}`);
  return Object.freeze({ ...options });
}

/**
 * Creates the pricing registry: configured prices first, then the bundled
 * `@pydantic/genai-prices` catalog (no network).
 * @example
 * const registry = createPricingRegistry({ models: { 'local/llama-3-8b': { inputPerMTok: 0.05, outputPerMTok: 0.1 } } });
 * registry.tokenCost({ provider: 'local', model: 'llama-3-8b' }, { inputTokens: 1000, outputTokens: 200 })?.totalUsd; // 0.00007
 */
export function createPricingRegistry(options: PricingOptions = {}): PricingRegistry {
  return new DefaultPricingRegistry(validatePricingOptions(options));
}
