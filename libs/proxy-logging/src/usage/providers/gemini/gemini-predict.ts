import { num, record, responseJson, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';

/**
 * Vertex AI's prediction endpoint of Google's own publisher models
 * (`.../publishers/google/models/<model>:predict`): text embeddings and Imagen. A model deployed
 * to an endpoint of one's own (`.../endpoints/<id>:predict`) is billed by node hour, whatever
 * its answers say, so its path is not this one and it is not metered.
 */
export const VERTEX_PREDICT_PATH = /\/publishers\/google\/models\/([^/:]+):predict$/;

/** The Gemini API's prediction endpoint (`/v1beta/models/<model>:predict`), which serves Imagen. */
export const GEMINI_API_PREDICT_PATH = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):predict$/;

/**
 * The price variant of an image made through the Gemini API: Google lists Imagen 3 there at
 * $0.03 per image against $0.04 on Vertex AI; Imagen 4 at the same prices on both, which its
 * models' own entries give (https://ai.google.dev/gemini-api/docs/pricing).
 */
export const GEMINI_API_PRICE_VARIANT = 'gemini-api';

// Vertex AI bills its text embedding models by the characters of their input
// (https://cloud.google.com/vertex-ai/generative-ai/pricing), which the answer counts in
// `metadata.billableCharacterCount`; Gemini embedding models by the tokens `token_count` gives
const PER_CHARACTER = /^(?:text-embedding|text-multilingual-embedding|textembedding-gecko)/;

/** Why a per-character embedding model's tokens have no price (see `MeteredUsage.unpricedReason`). */
const BILLED_PER_CHARACTER = 'billed_per_character';

// the images of an Imagen answer: a filtered image (`raiFilteredReason`) or the prompt's safety
// attributes carry none
function imagesOf(predictions: readonly unknown[]): number {
  let images = 0;
  for (const item of predictions) {
    const prediction = record(item);
    if (typeof prediction['bytesBase64Encoded'] === 'string' || typeof prediction['gcsUri'] === 'string')
      images += 1;
  }
  return images;
}

/** A model name from the URL path as the client wrote it (`%40` is `@`); undefined when malformed. */
function pathModel(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

/**
 * The usage of a successful `:predict` answer of a Google publisher model on Vertex AI, the
 * model named by the URL: the input tokens of text embeddings (`predictions[].embeddings.statistics.token_count`,
 * summed), with the billable characters of the models billed by character; or the images Imagen
 * generated (`predictions[]` with `bytesBase64Encoded`, or `gcsUri` when the request named a
 * `storageUri`). Undefined for any other answer.
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/imagen-api
 */
export function meterVertexPredict(exchange: MeterExchange, encodedModel: string): MeteredUsage | undefined {
  const model = pathModel(encodedModel);
  if (model === undefined) return undefined;
  const body = record(responseJson(exchange));
  const predictions = Array.isArray(body['predictions']) ? body['predictions'] : [];
  let tokens: number | undefined;
  for (const item of predictions) {
    const count = num(record(record(record(item)['embeddings'])['statistics'])['token_count']);
    if (count !== undefined) tokens = (tokens ?? 0) + count;
  }
  const images = imagesOf(predictions);
  if (tokens !== undefined) {
    const usage: MeteredUsage = {
      provider: 'gemini',
      model,
      operation: 'embeddings',
      tokens: { inputTokens: tokens, outputTokens: 0 },
      units: {},
    };
    if (!PER_CHARACTER.test(model)) return usage;
    // the tokens stay for the log and token limits; what is billed is the characters
    const characters = num(record(body['metadata'])['billableCharacterCount']);
    if (characters !== undefined) usage.units = { characters };
    usage.unpricedReason = BILLED_PER_CHARACTER;
    return usage;
  }
  return images > 0 ? { provider: 'gemini', model, operation: 'image', units: { images } } : undefined;
}

/**
 * The usage of a successful `:predict` answer of the Gemini API, which serves Imagen there: the
 * images generated (`predictions[]` with `bytesBase64Encoded`; a filtered one carries none), in
 * the shape Vertex AI's Imagen answers in, priced as Vertex AI's but for the models the Gemini
 * API lists at a price of its own ({@link GEMINI_API_PRICE_VARIANT}). Undefined for any other answer.
 * @see https://ai.google.dev/gemini-api/docs/imagen
 * @see https://ai.google.dev/gemini-api/docs/pricing
 */
export function meterGeminiApiPredict(
  exchange: MeterExchange,
  encodedModel: string,
): MeteredUsage | undefined {
  const model = pathModel(encodedModel);
  if (model === undefined) return undefined;
  const predictions = record(responseJson(exchange))['predictions'];
  const images = Array.isArray(predictions) ? imagesOf(predictions) : 0;
  return images > 0
    ? {
        provider: 'gemini',
        model,
        operation: 'image',
        units: { images },
        priceVariant: GEMINI_API_PRICE_VARIANT,
      }
    : undefined;
}
