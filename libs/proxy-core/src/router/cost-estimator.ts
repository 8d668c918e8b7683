/** What a cost estimate is asked about. */
export interface CostQuery {
  /** The provider instance name. */
  provider: string;
  /** The provider type (`openai`, `anthropic`, ...). */
  providerType: string;
  /** The upstream model id. */
  model: string;
  /** Estimated prompt tokens of the request. */
  promptTokens: number;
  /**
   * Output tokens the request may produce on this target: its `max_completion_tokens` /
   * `max_tokens` (or an estimate), at most the target model's max output in the engine's
   * `modelCatalog`, times the choices it asks for (`n`; a legacy completion's `best_of` when larger).
   */
  outputTokens: number;
}

/**
 * Prices a prospective call, for `lowest-cost` routing. proxy-api wires this to the pricing
 * tables of proxy-logging; any object with this method works.
 */
export interface CostEstimator {
  /** Estimated USD cost of the call; `null` or `undefined` when the model has no known price (routed last). */
  estimateCostUsd(query: CostQuery): number | null | undefined;
}
