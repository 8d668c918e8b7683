import type { ModelInfo } from '@switchyard/proxy-core';

/**
 * Where the shipped model facts come from and when they were compiled. Prices are
 * references in USD per million tokens (standard tier, shortest-context tier, peak hours
 * where a vendor has off-peak rates); a test holds them equal to the pricing registry
 * that bills requests (`@pydantic/genai-prices`). Override them in config when they change.
 */
export const MODEL_CATALOG_SOURCE = {
  source: "Vendors' published model and pricing pages (OpenAI, Anthropic, Google, Mistral, Groq, DeepSeek)",
  compiledOn: '2026-11-30',
} as const;

const TEXT = ['text'] as const;
const TEXT_IMAGE = ['text', 'image'] as const;

function model(
  id: string,
  provider: string,
  contextWindow: number,
  maxOutputTokens: number,
  input: readonly string[],
  price: [number, number, number?],
): ModelInfo {
  const [inputPerMTokUsd, outputPerMTokUsd, cachedInputPerMTokUsd] = price;
  return {
    id,
    provider,
    contextWindow,
    maxOutputTokens,
    inputModalities: input,
    outputModalities: TEXT,
    supportsTools: true,
    pricing: {
      inputPerMTokUsd,
      outputPerMTokUsd,
      ...(cachedInputPerMTokUsd === undefined ? {} : { cachedInputPerMTokUsd }),
    },
  };
}

/**
 * The shipped model facts; ids are the vendors' undated names (dated ids, and Bedrock's and Vertex
 * AI's ids of them, resolve to them). A `-preview` is listed as a model of its own.
 */
export const BUILTIN_MODELS: readonly ModelInfo[] = Object.freeze([
  // OpenAI
  model('gpt-4o', 'openai', 128_000, 16_384, TEXT_IMAGE, [2.5, 10, 1.25]),
  model('gpt-4o-mini', 'openai', 128_000, 16_384, TEXT_IMAGE, [0.15, 0.6, 0.075]),
  model('gpt-4.1', 'openai', 1_047_576, 32_768, TEXT_IMAGE, [2, 8, 0.5]),
  model('gpt-4.1-mini', 'openai', 1_047_576, 32_768, TEXT_IMAGE, [0.4, 1.6, 0.1]),
  model('gpt-4.1-nano', 'openai', 1_047_576, 32_768, TEXT_IMAGE, [0.1, 0.4, 0.025]),
  model('gpt-5', 'openai', 400_000, 128_000, TEXT_IMAGE, [1.25, 10, 0.125]),
  model('gpt-5-mini', 'openai', 400_000, 128_000, TEXT_IMAGE, [0.25, 2, 0.025]),
  model('gpt-5-nano', 'openai', 400_000, 128_000, TEXT_IMAGE, [0.05, 0.4, 0.005]),
  model('o1', 'openai', 200_000, 100_000, TEXT_IMAGE, [15, 60, 7.5]),
  // no tools (function calling came with o1)
  { ...model('o1-preview', 'openai', 128_000, 32_768, TEXT, [15, 60, 7.5]), supportsTools: false },
  model('o3', 'openai', 200_000, 100_000, TEXT_IMAGE, [2, 8, 0.5]),
  model('o3-mini', 'openai', 200_000, 100_000, TEXT, [1.1, 4.4, 0.55]),
  model('o4-mini', 'openai', 200_000, 100_000, TEXT_IMAGE, [1.1, 4.4, 0.275]),
  model('gpt-4-turbo', 'openai', 128_000, 4_096, TEXT_IMAGE, [10, 30]),
  model('gpt-4-turbo-preview', 'openai', 128_000, 4_096, TEXT, [10, 30]),
  model('gpt-4', 'openai', 8_192, 8_192, TEXT, [30, 60]),
  model('gpt-3.5-turbo', 'openai', 16_385, 4_096, TEXT, [0.5, 1.5]),
  // Anthropic
  model('claude-opus-4-1', 'anthropic', 200_000, 32_000, TEXT_IMAGE, [15, 75, 1.5]),
  model('claude-opus-4', 'anthropic', 200_000, 32_000, TEXT_IMAGE, [15, 75, 1.5]),
  model('claude-sonnet-4', 'anthropic', 200_000, 64_000, TEXT_IMAGE, [3, 15, 0.3]),
  model('claude-3-7-sonnet', 'anthropic', 200_000, 64_000, TEXT_IMAGE, [3, 15, 0.3]),
  model('claude-3-5-sonnet', 'anthropic', 200_000, 8_192, TEXT_IMAGE, [3, 15, 0.3]),
  model('claude-3-5-haiku', 'anthropic', 200_000, 8_192, TEXT_IMAGE, [0.8, 4, 0.08]),
  model('claude-3-haiku', 'anthropic', 200_000, 4_096, TEXT_IMAGE, [0.25, 1.25, 0.03]),
  // Google
  model('gemini-2.5-pro', 'google', 1_048_576, 65_536, TEXT_IMAGE, [1.25, 10, 0.125]),
  model('gemini-2.5-flash', 'google', 1_048_576, 65_536, TEXT_IMAGE, [0.3, 2.5, 0.03]),
  model('gemini-2.0-flash', 'google', 1_048_576, 8_192, TEXT_IMAGE, [0.1, 0.4, 0.025]),
  model('gemini-1.5-pro', 'google', 2_097_152, 8_192, TEXT_IMAGE, [1.25, 5]),
  model('gemini-1.5-flash', 'google', 1_048_576, 8_192, TEXT_IMAGE, [0.075, 0.3]),
  // Mistral
  model('mistral-large-latest', 'mistral', 128_000, 128_000, TEXT, [2, 6]),
  model('mistral-small-latest', 'mistral', 128_000, 128_000, TEXT_IMAGE, [0.1, 0.3]),
  // Groq-hosted open models
  model('llama-3.3-70b-versatile', 'groq', 131_072, 32_768, TEXT, [0.59, 0.79]),
  model('llama-3.1-8b-instant', 'groq', 131_072, 131_072, TEXT, [0.05, 0.08]),
  // DeepSeek
  model('deepseek-chat', 'deepseek', 65_536, 8_192, TEXT, [0.27, 1.1, 0.07]),
  model('deepseek-reasoner', 'deepseek', 65_536, 32_768, TEXT, [0.55, 2.19, 0.14]),
]);
