/** One deployment a requested model may be sent to, as pricing and budgets see it. */
export interface RouteCandidate {
  /** The provider instance name. */
  provider: string;
  /** The provider's type (`openai`, `anthropic`, ...), for price lookups. */
  providerType: string;
  /** The model id sent upstream. */
  model: string;
  /** The largest completion the model produces, from the model catalog (when one is configured and knows it). */
  maxOutputTokens?: number;
}
