import type { UnitPrice } from './pricing-options';

/**
 * Non-token list prices shipped with the library, version 2026-12-03. Each entry names
 * its source; plan-dependent prices (most speech, vector and messaging APIs) are left to
 * configuration (`pricing.units`), so an unconfigured unit is an unknown cost, never zero.
 */
export const BUILTIN_UNIT_PRICES_VERSION = '2026-12-03';

/** The shipped non-token prices (see {@link BUILTIN_UNIT_PRICES_VERSION}). */
export const BUILTIN_UNIT_PRICES: Readonly<Record<string, UnitPrice>> = {
  // https://openai.com/api/pricing: TTS per character, Whisper per minute, DALL·E per image
  'openai/tts-1': { perUnit: { characters: 15 / 1e6 } },
  'openai/tts-1-hd': { perUnit: { characters: 30 / 1e6 } },
  'openai/whisper-1': { perUnit: { audio_seconds: 0.006 / 60 } },
  // DALL·E bills a flat price per image by quality and size (`<model>@<quality>/<size>`, the
  // variant the meter reads from the request); the model's own price is its default one
  // (standard, 1024x1024), for an exchange whose variant is not known
  'openai/dall-e-3': { perUnit: { images: 0.04 } },
  'openai/dall-e-3@standard/1024x1024': { perUnit: { images: 0.04 } },
  'openai/dall-e-3@standard/1024x1792': { perUnit: { images: 0.08 } },
  'openai/dall-e-3@standard/1792x1024': { perUnit: { images: 0.08 } },
  'openai/dall-e-3@hd/1024x1024': { perUnit: { images: 0.08 } },
  'openai/dall-e-3@hd/1024x1792': { perUnit: { images: 0.12 } },
  'openai/dall-e-3@hd/1792x1024': { perUnit: { images: 0.12 } },
  'openai/dall-e-2': { perUnit: { images: 0.02 } },
  'openai/dall-e-2@standard/256x256': { perUnit: { images: 0.016 } },
  'openai/dall-e-2@standard/512x512': { perUnit: { images: 0.018 } },
  'openai/dall-e-2@standard/1024x1024': { perUnit: { images: 0.02 } },
  // https://cloud.google.com/vertex-ai/generative-ai/pricing (Imagen): per image generated, the
  // Imagen models Google lists for generation on Vertex AI (`publishers/google/models/<model>:predict`,
  // which the gemini meter reads). Editing, customization and upscaling models are priced apart
  // there and left to configuration, like the preview names
  'gemini/imagen-4.0-ultra-generate-001': { perUnit: { images: 0.06 } },
  'gemini/imagen-4.0-generate-001': { perUnit: { images: 0.04 } },
  'gemini/imagen-4.0-fast-generate-001': { perUnit: { images: 0.02 } },
  'gemini/imagen-3.0-generate-002': { perUnit: { images: 0.04 } },
  'gemini/imagen-3.0-generate-001': { perUnit: { images: 0.04 } },
  'gemini/imagen-3.0-fast-generate-001': { perUnit: { images: 0.02 } },
  // https://ai.google.dev/gemini-api/docs/pricing (Imagen): the same models through the Gemini API
  // (`models/<model>:predict`, price variant `gemini-api`) at the same prices per image, Imagen 4
  // Fast $0.02, Standard $0.04, Ultra $0.06, but for Imagen 3 at $0.03
  'gemini/imagen-3.0-generate-002@gemini-api': { perUnit: { images: 0.03 } },
  // https://stripe.com/pricing: standard domestic card fee
  stripe: { paymentFee: { percent: 2.9, fixedUsd: 0.3 } },
};
