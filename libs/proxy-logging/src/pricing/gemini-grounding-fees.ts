/**
 * How Google bills Grounding with Google Search on a Gemini model: a rate in USD, and whether it
 * is charged per search query the model ran or once per grounded prompt (a request that searched
 * at all, however many queries it ran).
 */
export interface GeminiGroundingFee {
  /** USD per search, or per grounded prompt when `perPrompt`. */
  perWebSearch: number;
  /** True where Google bills each grounded prompt once (Gemini 2.x and earlier). */
  perPrompt: boolean;
}

/**
 * Google's list prices for Grounding with Google Search, the same on the Gemini API
 * (https://ai.google.dev/gemini-api/docs/pricing) and on Vertex AI
 * (https://cloud.google.com/vertex-ai/generative-ai/pricing): Gemini 3 models $14 per 1000 search
 * queries, each distinct non-empty query the model ran
 * (https://ai.google.dev/gemini-api/docs/google-search); Gemini 2.5, 2.0 and earlier $35 per 1000
 * grounded prompts. The free allowances (on the Gemini API's paid tier 1,500 grounded prompts a
 * day for Gemini 2.x, 5,000 prompts a month shared by the Gemini 3 models) are per project and
 * period, which one request cannot know: every search is priced at the paid rate.
 */
export const GEMINI_GROUNDING_FEES_USD = {
  perSearchQuery: 14 / 1000,
  perGroundedPrompt: 35 / 1000,
} as const;

// the generation in a model name as clients and answers give it: `gemini-3-flash-preview`,
// `gemini-3.1-pro-preview`, `gemini-2.5-flash-001`, `models/gemini-2.0-flash`, `google/gemini-2.5-pro`
const GENERATION = /(?:^|\/)gemini-(\d+)(?:[.-]|$)/i;

/**
 * The grounding fee of a Gemini model by its generation, or undefined for a name that does not
 * say it (`gemini-flash-latest`, `gemini-exp-1206`): its searches are then left unpriced unless
 * configured, never priced at a guess.
 */
export function geminiGroundingFee(model: string): GeminiGroundingFee | undefined {
  const generation = GENERATION.exec(model)?.[1];
  if (generation === undefined) return undefined;
  return Number(generation) >= 3
    ? { perWebSearch: GEMINI_GROUNDING_FEES_USD.perSearchQuery, perPrompt: false }
    : { perWebSearch: GEMINI_GROUNDING_FEES_USD.perGroundedPrompt, perPrompt: true };
}
