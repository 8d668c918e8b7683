/** What a cost estimate is asked for. */
export interface CostEstimateInput {
  /** The model the client asked for (an alias, or `provider/model`). */
  model: string;
  endpoint: 'chat' | 'messages' | 'embeddings' | 'proxy';
  /** The parsed request body (a `ChatCompletionRequest`, an Anthropic Messages request on `/v1/messages`, or an `EmbeddingRequest`). */
  body: unknown;
}

/**
 * Estimates the most a request can cost before it runs, so budgets can reserve it
 * (reserve-then-reconcile). The pricing plugin supplies one.
 */
export interface CostEstimator {
  /** An upper bound in USD, or null when the price is unknown. */
  estimateMaxCostUsd(input: CostEstimateInput): number | null | Promise<number | null>;
}
