import { num, record, responseJson, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';

/**
 * Vertex AI's prediction endpoint of Google's own publisher models
 * (`.../publishers/google/models/<model>:predict`): text embeddings and Imagen. A model deployed
 * to an endpoint of one's own (`.../endpoints/<id>:predict`) is billed by node hour, whatever
 * its answers say, so its path is not this one and it is not metered.
 */
export const VERTEX_PREDICT_PATH = /\/publishers\/google\/models\/([^/:]+):predict$/;

// Vertex AI bills its text embedding models by the characters of their input
// (https://cloud.google.com/vertex-ai/generative-ai/pricing), which the answer counts in
// `metadata.billableCharacterCount`; Gemini embedding models by the tokens `token_count` gives
const PER_CHARACTER = /^(?:text-embedding|text-multilingual-embedding|textembedding-gecko)/;

/** Why a per-character embedding model's tokens have no price (see `MeteredUsage.unpricedReason`). */
const BILLED_PER_CHARACTER = 'billed_per_character';

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
  let images = 0;
  for (const item of predictions) {
    const prediction = record(item);
    const count = num(record(record(prediction['embeddings'])['statistics'])['token_count']);
    if (count !== undefined) tokens = (tokens ?? 0) + count;
    // an image filtered out (`raiFilteredReason`) or the prompt's safety attributes carry no image
    if (typeof prediction['bytesBase64Encoded'] === 'string' || typeof prediction['gcsUri'] === 'string')
      images += 1;
  }
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
