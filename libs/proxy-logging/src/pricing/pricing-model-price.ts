import { Type, type Static } from '@sinclair/typebox';

const rate = (description: string) => Type.Optional(Type.Number({ minimum: 0, description }));

const RATE_FIELDS = {
  /** USD per million uncached input tokens. */
  inputPerMTok: rate('USD per million uncached input tokens'),
  /** USD per million output tokens (reasoning included unless `reasoningPerMTok` is set). */
  outputPerMTok: rate('USD per million output tokens'),
  /** USD per million input tokens read from the prompt cache. @default inputPerMTok */
  cachedInputPerMTok: rate('USD per million cached input tokens'),
  /** USD per million input tokens written to the prompt cache. @default inputPerMTok */
  cacheWritePerMTok: rate('USD per million cache-write tokens'),
  /**
   * USD per million input tokens written to the prompt cache for an hour (Anthropic's 1h
   * TTL). No default: 1h writes cost more than 5-minute ones (2x the input rate against 1.25x on
   * Anthropic's price list), so usage with 1h writes and no such rate costs null. When set and
   * different from the 5-minute rate, cache writes whose lifetime the usage does not say make
   * the cost unknown too.
   */
  cacheWrite1hPerMTok: rate('USD per million cache-write tokens with a 1-hour lifetime'),
  /** USD per million reasoning tokens. @default outputPerMTok */
  reasoningPerMTok: rate('USD per million reasoning tokens'),
  /**
   * USD per million citation tokens (Perplexity deep research's `citation_tokens`, counted apart
   * from input and output). No default: without it citation tokens are not billed, as on Sonar and
   * Sonar Pro, except on a deep-research model, whose usage with citation tokens then costs null.
   */
  citationPerMTok: rate('USD per million citation tokens (Perplexity deep research)'),
  /** USD per million audio input tokens. @default inputPerMTok */
  audioInputPerMTok: rate('USD per million audio input tokens'),
  /** USD per million audio output tokens. @default outputPerMTok */
  audioOutputPerMTok: rate('USD per million audio output tokens'),
  /**
   * USD per million image input tokens (gpt-image-1 and realtime models). When set and
   * different from `inputPerMTok`, input whose image share the usage does not say makes the
   * cost unknown. @default inputPerMTok
   */
  imageInputPerMTok: rate('USD per million image input tokens'),
  /**
   * USD per million image output tokens (Gemini image models). When set and different from
   * `outputPerMTok`, output whose image share the usage does not say makes the cost unknown.
   * @default outputPerMTok
   */
  imageOutputPerMTok: rate('USD per million image output tokens'),
  /** USD per generated image. */
  perImage: rate('USD per generated image'),
  /** USD per web search the provider ran for the request (a server-side search tool). */
  perWebSearch: rate('USD per web search'),
  /**
   * USD per file search the provider ran for the request (OpenAI's file search tool). No
   * default: usage with file searches and no such rate costs null.
   */
  perFileSearch: rate('USD per file search tool call'),
  /** USD per second of audio. */
  perAudioSecond: rate('USD per second of audio'),
  /** USD per request, whatever its size. */
  perRequest: rate('USD per request'),
} as const;

/** The rates of one tier (see {@link ModelPriceSchema}). */
export const PriceTierSchema = Type.Object(
  {
    /** The tier applies to the whole request when its input tokens exceed this count. */
    aboveInputTokens: Type.Integer({ minimum: 0 }),
    ...RATE_FIELDS,
  },
  { additionalProperties: false },
);

// the long-prompt tiers of a price, or of a service tier's
const inputTiers = () => Type.Optional(Type.Array(PriceTierSchema));

/**
 * The price of answers served on one service tier (see {@link ModelPriceSchema}'s
 * `serviceTiers`): rates, and long-prompt tiers, of its own.
 */
export const ServiceTierPriceSchema = Type.Object(
  { ...RATE_FIELDS, tiers: inputTiers() },
  { additionalProperties: false },
);

/**
 * The price of one model. Rates missing from a tier fall back to the base rates; rates
 * missing from the base fall back as documented on each field, and a usage component
 * with no rate at all makes the cost unknown (null), never zero.
 */
export const ModelPriceSchema = Type.Object(
  {
    ...RATE_FIELDS,
    /** Higher rates for long prompts, by input token count (Gemini's >200k tier, say). @default [] */
    tiers: inputTiers(),
    /**
     * Prices of answers served on a service tier other than the standard one, keyed by the tier
     * the answer names (OpenAI's `service_tier`: `priority`, `flex`, `scale`). Each replaces the
     * whole price for such answers (its missing rates fall back within it, not to the standard
     * rates). An answer on a non-standard tier with no price here costs null. @default {}
     */
    serviceTiers: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 64 }), ServiceTierPriceSchema),
    ),
  },
  { additionalProperties: false },
);

/** The price of one model (see {@link ModelPriceSchema}). */
export type ModelPrice = Static<typeof ModelPriceSchema>;
/** One tier of a {@link ModelPrice}. */
export type PriceTier = Static<typeof PriceTierSchema>;
/** The price of one service tier of a {@link ModelPrice}. */
export type ServiceTierPrice = Static<typeof ServiceTierPriceSchema>;
/** The rates a price or tier carries. */
export type PriceRates = Omit<ModelPrice, 'tiers' | 'serviceTiers'>;

/** The rates in force for a request with this many input tokens. */
export function ratesForInput(price: ModelPrice, inputTokens: number): PriceRates {
  let chosen: PriceTier | undefined;
  for (const tier of price.tiers ?? []) {
    if (
      inputTokens > tier.aboveInputTokens &&
      (chosen === undefined || tier.aboveInputTokens > chosen.aboveInputTokens)
    )
      chosen = tier;
  }
  const { tiers: _tiers, serviceTiers: _serviceTiers, ...base } = price;
  if (chosen === undefined) return base;
  const { aboveInputTokens: _above, ...tierRates } = chosen;
  return { ...base, ...definedOnly(tierRates) };
}

function definedOnly(rates: PriceRates): PriceRates {
  const result: PriceRates = Object.fromEntries(
    Object.entries(rates).filter(([, value]) => value !== undefined),
  );
  return result;
}
