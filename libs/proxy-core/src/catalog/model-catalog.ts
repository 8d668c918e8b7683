/** Prices of a model in USD per million tokens, as a reference (a pricing plugin may hold its own). */
export interface ModelPriceReference {
  inputPerMTokUsd: number;
  outputPerMTokUsd: number;
  /** Price of prompt tokens served from the provider's prompt cache. */
  cachedInputPerMTokUsd?: number;
}

/** What the gateway knows about one upstream model. */
export interface ModelInfo {
  /** The upstream model id (e.g. `gpt-4o-mini`). */
  id: string;
  /** The vendor family (e.g. `openai`, `anthropic`, `google`). */
  provider: string;
  /** Context window in tokens (prompt and completion together). */
  contextWindow: number;
  /** Largest completion the model produces, in tokens. */
  maxOutputTokens: number;
  /** Input modalities (`text`, `image`, `audio`). */
  inputModalities: readonly string[];
  /** Output modalities. */
  outputModalities: readonly string[];
  supportsTools: boolean;
  pricing?: ModelPriceReference;
}

/**
 * A read-only view of model facts, given to the engine in its options so the router may
 * route by size or price and `listModels` can describe models. `@switchyard/proxy-context`
 * ships one built from data; any object with this shape works.
 */
export interface ModelCatalog {
  /** Facts about a model id (`provider/model` and dated ids resolve too), or undefined when unknown. */
  lookup(model: string): ModelInfo | undefined;
  /** Every known model. */
  list(): readonly ModelInfo[];
}
