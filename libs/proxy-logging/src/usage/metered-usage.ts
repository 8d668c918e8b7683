import type { TokenUsage } from './token-usage';

/** A payment metered from a payment API's response. */
export interface MeteredPayment {
  /** The amount in major units of `currency` (dollars, not cents). */
  amount: number;
  /** ISO 4217 code, lower case. */
  currency: string;
  /** Transactions the amount covers. */
  transactions: number;
}

/**
 * What one exchange with any metered API used: tokens for LLMs, billable units for the
 * rest (`characters`, `audio_seconds`, `read_units`, `write_units`, `requests`,
 * `messages`, `images`, `search_requests`, ...), and facts that are not billed
 * (`attributes`: GraphQL operation, response size, ...).
 */
export interface MeteredUsage {
  /** The metered provider (`openai`, `elevenlabs`, `pinecone`, `graphql`, ...). */
  provider: string;
  /** The model or product, when the exchange names one. */
  model?: string;
  /** What was done (`chat`, `tts`, `query`, `upsert`, `sms`, ...). */
  operation?: string;
  tokens?: TokenUsage;
  /** Billable quantities by unit name. @default {} */
  units: Record<string, number>;
  /**
   * The variant of the model its unit prices depend on, where one model has several (DALL·E
   * bills each image by quality and size: `hd/1024x1792`). Unit prices are looked up under
   * `<provider>/<model>@<variant>` on top of `<provider>/<model>`.
   */
  priceVariant?: string;
  /**
   * Groups of `units` that count the same use in different terms, of which one is billed: the
   * first unit of the group with a price (ElevenLabs' text to speech, `[['credits', 'characters']]`:
   * the credits its answer says it charged, priced per credit, else the request's characters,
   * priced per character). The others are left out of the cost; a group none of whose units has
   * a price makes the cost unknown, as any unit without one does.
   */
  alternativeUnits?: readonly (readonly string[])[];
  payment?: MeteredPayment;
  /**
   * Why the exchange cannot be priced from what it reports, where the meter knows it (a
   * `gpt-4o-mini-tts` answer without usage: `audio_tokens_unreported`; a Vertex AI text
   * embedding model, billed by character: `billed_per_character`). Unless a configured price
   * covers its tokens and units, its cost is unknown, counted as `<provider>/<model>:<reason>`.
   */
  unpricedReason?: string;
  /** A USD cost the provider reported itself (PayPal's fee, Twilio's price): preferred over configured prices. */
  reportedCostUsd?: number;
  /** Facts that are not billed, for the log (operation names, byte counts). */
  attributes?: Record<string, string | number>;
  /**
   * The provider's id of what this usage bills, where the same object can be read again (an
   * OpenAI response, a Replicate prediction, an AssemblyAI transcript): the meter registry
   * bills it once, and meters a later read of it (a GET of a stored response, a poll after the
   * job finished) at no cost, with the attribute `billed_before` (see `createMeterRegistry`).
   */
  billedObject?: string;
  /**
   * The id of what this exchange read when that was billed before (a stored chat completion read
   * back, an object the registry billed once already), or of what bills it as a part (an
   * Assistants run step, whose usage its run's bills): the exchange costs nothing, and its usage
   * holds no tokens or units.
   */
  alreadyBilled?: string;
}
